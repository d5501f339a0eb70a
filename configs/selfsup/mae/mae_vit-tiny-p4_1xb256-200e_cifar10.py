# MAE for 32x32 images: ViT-Tiny with 4x4 patches on CIFAR-10, one process.
_base_ = [
    '../../_base_/models/mae_vit-tiny-p4.py',
    '../../_base_/datasets/cifar10_mae.py',
    '../../_base_/schedules/adamw_coslr_mae_pretrain.py',
    '../../_base_/default_runtime.py',
]
warmup_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
