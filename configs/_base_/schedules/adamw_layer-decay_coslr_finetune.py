# MAE finetune schedule (facebookresearch/mae FINETUNE.md, ViT-B): AdamW
# (0.9, 0.999), wd 0.05 (none on 1-D params, pos_embed, cls_token),
# layer-wise lr decay 0.65, 5 warm-up epochs, then half-cycle cosine, per
# iteration. lr is the *base* lr per 256 images: EasyRunner scales it by the
# effective batch / 256 (MAE: blr 5e-4 x 1024 / 256 = 2e-3).
# Each layer's lr = lr x decay ** (L + 1 - layer id), set once by the
# constructor; the schedulers below are relative, so the ratios hold. MAE's
# min_lr 1e-6 at peak 2e-3 is eta_min_ratio 5e-4 of each group's own lr.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.65))
auto_scale_lr = dict(base_batch_size=256, enable=True)

# Lengths: train_cfg.max_epochs and warmup_epochs only. The schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py), so a leaf config
# or --cfg-options sets those two keys and the whole schedule moves.
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=5e-4, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
