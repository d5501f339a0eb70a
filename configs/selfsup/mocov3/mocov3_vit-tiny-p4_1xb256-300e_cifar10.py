# MoCo v3 for 32x32 images: ViT-Tiny (192-d, 12 blocks, 3 heads) with 4x4
# patches, one process, the paper's optimiser and temperature and
# momentum; projector/predictor as the paper's (4096 hidden, 256 out). Not
# a tuned recipe: the ViT-S schedule (40 + 260 epochs) on CIFAR-10.
_base_ = [
    '../../_base_/models/mocov3_vit-small-p16.py',
    '../../_base_/datasets/cifar10_mocov3.py',
    '../../_base_/datasets/knn_cifar10.py',
    '../../_base_/schedules/adamw_coslr_mocov3_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(_delete_=True, type='VisionTransformer',
                            arch='tiny', img_size=32, patch_size=4))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
