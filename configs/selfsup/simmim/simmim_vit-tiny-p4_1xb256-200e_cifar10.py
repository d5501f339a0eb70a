# SimMIM for 32x32 images: ViT-Tiny with 4x4 patches on CIFAR-10, one
# process, 60% masking of 8 px blocks (see _base_/models/simmim_vit-tiny-p4.py
# for why 8 px). The reference's optimiser and schedule shape (warm-up, then
# one x0.1 step at 7/8 of training), shortened to 200 epochs. The base lr is
# raised for a tiny model and a 256 batch; it is not tuned on this data.
_base_ = [
    '../../_base_/models/simmim_vit-tiny-p4.py',
    '../../_base_/datasets/cifar10_simmim.py',
    '../../_base_/schedules/adamw_step_simmim_pretrain.py',
    '../../_base_/default_runtime.py',
]
optim_wrapper = dict(optimizer=dict(lr=2e-3))
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[175], gamma=0.1, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
