# The embedded default for SimMIM: scikit-learn's handwritten digits at
# 32x32, a few minutes on 2 CPU cores. A 6-block ViT-Tiny with 4x4 patches,
# 8 px mask blocks at 60%; the reference's optimiser (AdamW (0.9, 0.999),
# wd 0.05, clip 5.0) and warm-up + multi-step shape, shrunk to 30 epochs.
_base_ = [
    '../../_base_/models/simmim_vit-tiny-p4.py',
    '../../_base_/datasets/digits_simmim.py',
    '../../_base_/schedules/adamw_step_simmim_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(depth=6))
# a 64-image batch and a tiny model: a larger base lr than ImageNet's
# 1e-4 per 512 (x 64 / 512 -> 5e-4 here)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
warmup_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[26], gamma=0.1, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=30)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
