# DINO ViT-S/16 (Caron et al. 2021; facebookresearch/dino main_dino.py):
# batch 512 (8 GPUs x 64), AdamW base lr 5e-4 per 256, 10 warm-up epochs,
# cosine to 1e-6, wd 0.04 -> 0.4 (cosine), clip_grad 3, 100 epochs;
# teacher momentum 0.996 -> 1 (cosine); student temperature 0.1, teacher
# 0.04 -> 0.07 over the first 30 epochs (the paper's warm-up; the release's
# command-line default keeps 0.04); centre momentum 0.9; head 2048 hidden,
# bottleneck 256, 65536 prototypes, last layer weight-normalised and frozen
# in epoch 0; drop path 0.1 in the student. ViT-S as DINO's: 6 heads,
# learned positions (resized for the 96 px local crops).
_base_ = [
    '../../_base_/datasets/imagenet_dino.py',
    '../../_base_/datasets/knn_imagenet.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='DINO',
    backbone=dict(type='VisionTransformer', arch='small', img_size=224,
                  patch_size=16, pos_embed='learned', drop_path_rate=0.1),
    head=dict(type='DINOHead', out_dim=65536, hidden_dim=2048,
              bottleneck_dim=256, num_layers=3, norm_last_layer=True),
    num_global_crops=2,
    base_momentum=0.996,
    student_temp=0.1,
    teacher_temp=0.07,
    warmup_teacher_temp=0.04,
    warmup_teacher_temp_epochs=30,
    center_momentum=0.9,
    freeze_last_layer_epochs=1,
)
# kNN on the teacher, as DINO's eval_knn.py
knn_eval = dict(prefix='teacher.backbone.')
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
resume = True
