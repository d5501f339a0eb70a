# DINO on the embedded digits (no download): a 6-block ViT-Tiny, 2 global
# 32 px + 4 local 16 px crops, a small head (1024 prototypes, 512 hidden,
# 128 bottleneck), a short schedule whose teacher-temperature warm-up fits
# 30 epochs (0.04 -> 0.07 over 10).
_base_ = [
    '../../_base_/datasets/digits_dino.py',
    '../../_base_/datasets/knn_digits.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='DINO',
    backbone=dict(type='VisionTransformer', arch='tiny', depth=6,
                  img_size=32, patch_size=4, pos_embed='learned',
                  drop_path_rate=0.1),
    head=dict(type='DINOHead', out_dim=1024, hidden_dim=512,
              bottleneck_dim=128, num_layers=3, norm_last_layer=True),
    num_global_crops=2,
    base_momentum=0.996,
    student_temp=0.1,
    teacher_temp=0.07,
    warmup_teacher_temp=0.04,
    warmup_teacher_temp_epochs=10,
    center_momentum=0.9,
    freeze_last_layer_epochs=1,
)
knn_eval = dict(prefix='teacher.backbone.')
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
