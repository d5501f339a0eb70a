# MAE ViT-B/16 finetuning on ImageNet-1k (facebookresearch/mae FINETUNE.md):
# 100 epochs, effective batch 1024 (8 GPUs x 128), base lr 5e-4 x 1024/256
# = 2e-3, layer decay 0.65, wd 0.05, drop path 0.1, 5 warm-up epochs, cosine
# to 1e-6, mixup 0.8 / cutmix 1.0 / switch 0.5, label smoothing 0.1,
# RandAugment m9-mstd0.5-inc1, random erasing 0.25, global pooling.
# Reference: 83.6 top-1 from the 1600-epoch pretrain.
# Pretrain checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = [
    '../../_base_/models/vit-base-p16_cls.py',
    '../../_base_/datasets/imagenet_cls.py',
    '../../_base_/schedules/adamw_layer-decay_coslr_finetune.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/mae_vit-base-p16_8xb64-1600e_in1k/epoch_1600.pth')))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
