# DINO pretraining schedule (Caron et al. 2021; facebookresearch/dino
# main_dino.py): AdamW, base lr 5e-4 per 256 images (EasyRunner scales it
# by the effective batch), 10 linear warm-up epochs, cosine to 1e-6; weight
# decay cosine from 0.04 up to 0.4 on the regularised group (biases and
# 1-D parameters keep 0: the scheduler multiplies each group's own initial
# value, eta_min_ratio=10); gradients clipped at norm 3.
# The release clips each parameter tensor on its own norm; mmengine's
# clip_grad clips the global norm.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='MergedGroupsOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.04, fused=True),
    paramwise_cfg=dict(flat_decay_mult=0.0),
    clip_grad=dict(max_norm=3.0))
auto_scale_lr = dict(base_batch_size=256, enable=True)

warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         eta_min_ratio=10.0, by_epoch=True, begin=0, end='max',
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
