# MoCo v3 ViT-S/16 (Chen, Xie, He 2021; facebookresearch/moco-v3
# CONFIG.md): batch 4096 (16 GPUs x 256), AdamW base lr 1.5e-4 per 256
# (2.4e-3 at 4096), wd 0.1, 40 warm-up + 260 cosine epochs; temperature
# 0.2, momentum 0.99 -> 1 (cosine), frozen random patch projection. ViT-S
# with 12 heads as the release (DeiT-S has 6), fixed sin-cos positions;
# projector 3 x 4096 -> 256, predictor 2 x 4096 -> 256, BatchNorm synced
# across GPUs. AMP as the release (--amp on the command line).
_base_ = [
    '../../_base_/datasets/imagenet_mocov3.py',
    '../../_base_/datasets/knn_imagenet.py',
    '../../_base_/schedules/adamw_coslr_mocov3_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='MoCoV3',
    backbone=dict(type='VisionTransformer', arch='small', num_heads=12,
                  img_size=224, patch_size=16),
    projector=dict(type='ProjectionMLP', hidden_channels=4096,
                   out_channels=256, num_layers=3),
    predictor=dict(type='ProjectionMLP', hidden_channels=4096,
                   out_channels=256, num_layers=2),
    temperature=0.2,
    base_momentum=0.99,
    stop_grad_patch_proj=True,
)
sync_bn = 'torch'
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
resume = True
