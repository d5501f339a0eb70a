# DINO for 32x32 images: ViT-Tiny with 4x4 patches, 2 global 32 px + 6
# local 16 px crops, the paper's optimiser, temperatures and momenta, a
# smaller head (4096 prototypes) for 10 classes. Not a tuned recipe.
_base_ = [
    '../../_base_/models/dino_vit-small-p16.py',
    '../../_base_/datasets/cifar10_dino.py',
    '../../_base_/datasets/knn_cifar10.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
# kNN on the teacher, as DINO's eval_knn.py
knn_eval = dict(prefix='teacher.backbone.')
model = dict(
    backbone=dict(arch='tiny', img_size=32, patch_size=4),
    head=dict(out_dim=4096))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
