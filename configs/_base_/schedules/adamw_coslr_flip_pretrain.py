# FLIP's optimisation (facebookresearch/flip): AdamW betas (0.9, 0.95), weight
# decay 0.2, none on biases and norms (1-D), position embeddings, the cls
# token and the logit scale; linear warm-up, then cosine to 0, per
# iteration. lr below is per 256 pairs; EasyRunner multiplies it by
# (processes x batch x accumulation) / 256, so 4e-6 -> 1.024e-3 at 65,536.
# Lengths are in samples seen, as in the paper: 10,000 "virtual ImageNet
# epochs" (x 1.28 M) = 12.8 B pairs ~ 32 LAION-400M epochs; warm-up 40.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-6, betas=(0.9, 0.95),
                   weight_decay=0.2),
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'logit_scale': dict(decay_mult=0.0),
        }))
auto_scale_lr = dict(base_batch_size=256, enable=True)

# Lengths: train_cfg.max_iters and warmup_iters only; the schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py).
global_batch = 65536
virtual_epoch = 1_281_167  # ImageNet-1k train images
warmup_iters = 40 * virtual_epoch // global_batch  # 781
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=False, begin=0,
         end='warmup'),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False,
         begin='warmup', end='max'),
]
train_cfg = dict(type='IterBasedTrainLoop',
                 max_iters=10_000 * virtual_epoch // global_batch)  # 195,490
