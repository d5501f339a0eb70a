# DINO ViT-S/16 (Caron et al. 2021; facebookresearch/dino main_dino.py):
# batch 512 (8 GPUs x 64), AdamW base lr 5e-4 per 256, 10 warm-up epochs,
# cosine to 1e-6, wd 0.04 -> 0.4 (cosine), clip_grad 3, 100 epochs. The
# model (ViT-S, head, temperatures, momenta) is the base's.
_base_ = [
    '../../_base_/models/dino_vit-small-p16.py',
    '../../_base_/datasets/imagenet_dino.py',
    '../../_base_/datasets/knn_imagenet.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
# kNN on the teacher, as DINO's eval_knn.py
knn_eval = dict(prefix='teacher.backbone.')
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
resume = True
