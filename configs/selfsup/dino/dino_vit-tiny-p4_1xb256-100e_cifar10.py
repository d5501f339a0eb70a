# DINO for 32x32 images: ViT-Tiny with 4x4 patches, 2 global 32 px + 6
# local 16 px crops, the paper's optimiser, temperatures and momenta, a
# smaller head (4096 prototypes) for 10 classes. Not a tuned recipe.
_base_ = [
    '../../_base_/datasets/cifar10_dino.py',
    '../../_base_/datasets/knn_cifar10.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='DINO',
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, pos_embed='learned', drop_path_rate=0.1),
    head=dict(type='DINOHead', out_dim=4096, hidden_dim=2048,
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
knn_eval = dict(prefix='teacher.backbone.')
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
