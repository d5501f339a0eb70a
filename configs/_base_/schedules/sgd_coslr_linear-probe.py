# Linear probing schedule. MAE uses LARS (batch 16384, blr 0.1, wd 0, 90
# epochs, 10 warm-up); easymae has no LARS yet, so this is SGD with momentum
# 0.9, no weight decay, base lr 0.1 per 256 images scaled by the effective
# batch, 10 warm-up epochs then cosine to 0. Only the head (and the
# BatchNorm's running statistics) learn: frozen parameters get no gradient,
# and SGD leaves parameters without one untouched.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0))
auto_scale_lr = dict(base_batch_size=256, enable=True)

# Lengths: train_cfg.max_epochs and warmup_epochs only. The schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py), so a leaf config
# or --cfg-options sets those two keys and the whole schedule moves.
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
