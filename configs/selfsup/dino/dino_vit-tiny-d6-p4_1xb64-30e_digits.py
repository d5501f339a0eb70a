# DINO on the embedded digits (no download): a 6-block ViT-Tiny, 2 global
# 32 px + 4 local 16 px crops, a small head (1024 prototypes, 512 hidden,
# 128 bottleneck), a short schedule whose teacher-temperature warm-up fits
# 30 epochs (0.04 -> 0.07 over 10).
_base_ = [
    '../../_base_/models/dino_vit-small-p16.py',
    '../../_base_/datasets/digits_dino.py',
    '../../_base_/datasets/knn_digits.py',
    '../../_base_/schedules/adamw_coslr_dino_pretrain.py',
    '../../_base_/default_runtime.py',
]
# kNN on the teacher, as DINO's eval_knn.py
knn_eval = dict(prefix='teacher.backbone.')
model = dict(
    backbone=dict(arch='tiny', depth=6, img_size=32, patch_size=4),
    head=dict(out_dim=1024, hidden_dim=512, bottleneck_dim=128),
    warmup_teacher_temp_epochs=10)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
