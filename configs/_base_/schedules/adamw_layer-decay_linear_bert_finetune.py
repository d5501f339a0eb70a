# BERT finetuning on a GLUE task (Devlin et al. 2019, section 4.1 and
# appendix A.3): AdamW, weight decay 0.01 (none on LayerNorm and bias),
# batch 32, 3 epochs, linear warm-up over the first tenth of the steps,
# then linear decay to zero. The paper picks lr from {5e-5, 4e-5, 3e-5,
# 2e-5} on dev.
# Layer-wise lr decay goes through the ViT finetune's constructor (BERT
# used none: layer_decay_rate=1.0; ELECTRA 0.8). lr is per 32 sequences.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), eps=1e-6,
                   weight_decay=0.01),
    paramwise_cfg=dict(layer_decay_rate=1.0),
    clip_grad=dict(max_norm=1.0))
auto_scale_lr = dict(base_batch_size=32, enable=True)

# Lengths, in iterations (a tenth of the run warms up, which epochs could
# not say): warmup_iters and train_cfg.max_iters only. A leaf sets them
# from its data: 3 epochs of SST-2 at batch 32 are 3 x 2,104 steps.
warmup_iters = 631
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end='warmup'),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin='warmup', end='max'),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6312,
                 val_interval=2104)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
