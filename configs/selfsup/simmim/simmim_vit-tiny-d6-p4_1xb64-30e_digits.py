# The embedded default for SimMIM: scikit-learn's handwritten digits at
# 32x32, a few minutes on 2 CPU cores. A 6-block ViT-Tiny with 4x4 patches,
# 8 px mask blocks at 60%; the reference's optimiser (AdamW (0.9, 0.999),
# wd 0.05, clip 5.0) and warm-up + multi-step shape, shrunk to 30 epochs.
_base_ = [
    '../../_base_/models/simmim_vit-tiny-p4.py',
    '../../_base_/datasets/digits_simmim.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(depth=6))

optim_wrapper = dict(
    type='OptimWrapper',
    # a 64-image batch and a tiny model: a larger base lr than ImageNet's
    # 1e-4 per 512 (x 64 / 512 -> 5e-4 here)
    optimizer=dict(type='AdamW', lr=4e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))
auto_scale_lr = dict(base_batch_size=512, enable=True)

warmup_epochs = 3
max_epochs = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    # the reference steps at 7/8 of training
    dict(type='MultiStepLR', milestones=[26], gamma=0.1, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
