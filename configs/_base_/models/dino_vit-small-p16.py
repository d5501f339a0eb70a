# DINO ViT-S/16 (Caron et al. 2021; facebookresearch/dino main_dino.py):
# 6 heads, learned positions (resized for the 96 px local crops), drop path
# 0.1 in the student; head 2048 hidden, bottleneck 256, 65536 prototypes,
# last layer weight-normalised and frozen in epoch 0; teacher momentum
# 0.996 -> 1 (cosine); student temperature 0.1, teacher 0.04 -> 0.07 over
# the first 30 epochs (the paper's warm-up; the release's command-line
# default keeps 0.04); centre momentum 0.9.
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
