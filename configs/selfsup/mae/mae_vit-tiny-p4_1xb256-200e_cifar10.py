# MAE for 32x32 images: ViT-Tiny with 4x4 patches on CIFAR-10, one process.
_base_ = [
    '../../_base_/models/mae_vit-tiny-p4.py',
    '../../_base_/datasets/cifar10_mae.py',
    '../../_base_/schedules/adamw_coslr_mae_pretrain.py',
    '../../_base_/default_runtime.py',
]
warmup_epochs = 10
max_epochs = 200
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
