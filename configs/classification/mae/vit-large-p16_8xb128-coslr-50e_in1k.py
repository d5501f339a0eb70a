# MAE ViT-L/16 finetuning on ImageNet-1k (facebookresearch/mae FINETUNE.md):
# 50 epochs, effective batch 1024, base lr 1e-3 (x 1024/256 = 4e-3), layer
# decay 0.75, drop path 0.2; the rest as ViT-B. Reference: 85.9 top-1.
_base_ = [
    '../../_base_/models/vit-large-p16_cls.py',
    '../../_base_/datasets/imagenet_cls.py',
    '../../_base_/schedules/adamw_layer-decay_coslr_finetune.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/mae_vit-large-p16_8xb64-1600e_in1k/epoch_1600.pth'
)))
optim_wrapper = dict(optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(layer_decay_rate=0.75))
# MAE's min lr 1e-6 at this peak (4e-3): a smaller ratio than ViT-B's
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=2.5e-4, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
