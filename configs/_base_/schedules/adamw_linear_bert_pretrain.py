# BERT pretraining schedule (Devlin et al. 2019, appendix A.2): AdamW
# (0.9, 0.999), eps 1e-6, weight decay 0.01 except on LayerNorm and bias
# (1-D parameters), gradient norm clipped at 1.0; lr warmed up linearly for
# warmup_iters, then decayed linearly to zero at train_cfg.max_iters.
# lr is per 256 sequences (the paper's batch); EasyRunner scales it by the
# effective batch (processes x batch x accumulation) / 256.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-6,
                   weight_decay=0.01),
    paramwise_cfg=dict(flat_decay_mult=0.0),
    clip_grad=dict(max_norm=1.0))
auto_scale_lr = dict(base_batch_size=256, enable=True)

# Lengths: warmup_iters and train_cfg.max_iters only; the schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py).
warmup_iters = 10000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=False, begin=0,
         end='warmup'),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin='warmup', end='max'),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000000,
                 val_interval=10000)
val_cfg = dict(type='ValLoop')
