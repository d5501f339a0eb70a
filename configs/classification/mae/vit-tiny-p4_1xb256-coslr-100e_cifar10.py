# MAE ViT-Tiny finetuning for 32x32 images (CIFAR-10), after MAE-Lite's
# "improved" Tiny recipe scaled to 100 epochs: base lr 1e-3 per 256, layer
# decay 0.85, mixup 0.2, no cutmix, no drop path, no random erasing,
# RandAugment m10-mstd0.5-inc1. Pretrain with
# configs/selfsup/mae/mae_vit-tiny-p4_1xb256-200e_cifar10.py.
_base_ = [
    '../../_base_/models/vit-tiny-p4_cls.py',
    '../../_base_/datasets/cifar10_cls.py',
    '../../_base_/schedules/adamw_layer-decay_coslr_finetune.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/mae_vit-tiny-p4_1xb256-200e_cifar10/epoch_200.pth'
)))
optim_wrapper = dict(optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(layer_decay_rate=0.85))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
