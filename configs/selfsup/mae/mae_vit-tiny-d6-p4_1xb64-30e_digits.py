# The embedded default: MAE on scikit-learn's handwritten digits at 32x32,
# a few minutes on 2 CPU cores. A 6-block ViT-Tiny keeps it quick.
_base_ = [
    '../../_base_/models/mae_vit-tiny-p4.py',
    '../../_base_/datasets/digits_mae.py',
    '../../_base_/schedules/adamw_coslr_mae_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(depth=6))
# a 64-image batch is small: a larger base lr than ImageNet's 1.5e-4
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
