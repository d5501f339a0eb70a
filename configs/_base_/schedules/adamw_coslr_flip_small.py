# FLIP's optimiser for small CPU runs: AdamW (0.9, 0.95), wd 0.2 except on
# biases, norms, positions, cls token and logit scale; lr 1e-3 at a batch
# of 64 (scaled by the effective batch), warm-up then cosine, per epoch
# converted to iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95),
                   weight_decay=0.2),
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'logit_scale': dict(decay_mult=0.0),
        }))
auto_scale_lr = dict(base_batch_size=64, enable=True)
# Lengths: train_cfg.max_epochs and warmup_epochs only. The schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py), so a leaf config
# or --cfg-options sets those two keys and the whole schedule moves.
warmup_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
