# MoCo v3 pretraining schedule (Chen, Xie, He 2021; moco-v3 CONFIG.md):
# AdamW with torch's default betas, weight decay 0.1 on *every* parameter
# (no exemption of biases, norms or tokens), base lr 1.5e-4 per 256 images
# (EasyRunner scales it by the effective batch), 40 warm-up epochs, then a
# half cosine to 0, updated per iteration.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='MergedGroupsOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.999),
                   weight_decay=0.1, fused=True))
auto_scale_lr = dict(base_batch_size=256, enable=True)

warmup_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
