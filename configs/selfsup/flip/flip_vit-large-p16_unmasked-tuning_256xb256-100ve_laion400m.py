# Unmasked tuning of the FLIP ViT-L/16 run: mask_ratio 0, lr 4e-8 per 256,
# 20 warm-up + 100 virtual ImageNet epochs, from the masked checkpoint (see
# the ViT-B/16 unmasked-tuning config for the memory note).
_base_ = ['./flip_vit-large-p16_256xb256-10000ve_laion400m.py']
model = dict(mask_ratio=0.0)
load_from = 'work_dirs/flip_vit-large-p16_256xb256-10000ve_laion400m/' \
    'iter_195490.pth'
resume = False
optim_wrapper = dict(optimizer=dict(lr=4e-8))
global_batch = 65536
virtual_epoch = 1_281_167
warmup_iters = 20 * virtual_epoch // global_batch  # 390
train_cfg = dict(type='IterBasedTrainLoop',
                 max_iters=100 * virtual_epoch // global_batch)  # 1,954
default_hooks = dict(checkpoint=dict(interval=500))
