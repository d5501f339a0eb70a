# FLIP's unmasked tuning (facebookresearch/flip README): continue from the
# masked pretraining checkpoint with every patch visible (mask_ratio 0) for
# a short schedule, lr 4e-8 per 256 (-> 1.024e-5 at 65,536), 20 warm-up and
# 100 virtual ImageNet epochs (128 M pairs, 1,954 iterations). It closes the
# gap between masked training and unmasked evaluation.
# Without masking each image costs twice as much: if 256 per GPU does not fit,
# halve train_dataloader.batch_size and set optim_wrapper.accumulative_counts=2
# (the effective batch, and so the scaled lr, stay the same).
_base_ = ['./flip_vit-base-p16_256xb256-10000ve_laion400m.py']
model = dict(mask_ratio=0.0)
load_from = 'work_dirs/flip_vit-base-p16_256xb256-10000ve_laion400m/' \
    'iter_195490.pth'
resume = False
optim_wrapper = dict(optimizer=dict(lr=4e-8))
global_batch = 65536
virtual_epoch = 1_281_167
warmup_iters = 20 * virtual_epoch // global_batch  # 390
train_cfg = dict(type='IterBasedTrainLoop',
                 max_iters=100 * virtual_epoch // global_batch)  # 1,954
default_hooks = dict(checkpoint=dict(interval=500))
