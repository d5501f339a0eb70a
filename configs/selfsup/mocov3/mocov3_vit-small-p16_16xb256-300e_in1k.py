# MoCo v3 ViT-S/16 (Chen, Xie, He 2021; facebookresearch/moco-v3
# CONFIG.md): batch 4096 (16 GPUs x 256), AdamW base lr 1.5e-4 per 256
# (2.4e-3 at 4096), wd 0.1, 40 warm-up + 260 cosine epochs, BatchNorm
# synced across GPUs, AMP as the release (--amp on the command line). The
# model (ViT-S with 12 heads, projector, predictor, temperature 0.2,
# momentum 0.99 -> 1) is the base's.
_base_ = [
    '../../_base_/models/mocov3_vit-small-p16.py',
    '../../_base_/datasets/imagenet_mocov3.py',
    '../../_base_/datasets/knn_imagenet.py',
    '../../_base_/schedules/adamw_coslr_mocov3_pretrain.py',
    '../../_base_/default_runtime.py',
]
sync_bn = 'torch'
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
resume = True
