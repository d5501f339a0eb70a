# SimMIM pretraining (microsoft/SimMIM configs/vit_base__800ep): AdamW
# betas (0.9, 0.999), eps 1e-8, wd 0.05 (none on biases, norms, positions
# and tokens), grad clip 5.0; base lr 1e-4 per 512 images, scaled by the
# effective batch (EasyRunner: lr x GPUs x batch x accumulation / 512);
# 10 warm-up epochs from 5e-7 (x the same scale), then constant with one
# x0.1 step at epoch 700 as the reference. MultiStepLR's milestones count
# from its begin, the warm-up's end: 690 + 10 = 700.
# Lengths: train_cfg.max_epochs and warmup_epochs; the schedulers'
# 'warmup'/'max' follow them (config_check/schedules.py). The milestone is
# a number: a recipe that changes the length sets it too.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        flat_decay_mult=0.0,  # biases and norms: no decay, as the reference
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))
auto_scale_lr = dict(base_batch_size=512, enable=True)

warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / 1e-4, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[690], gamma=0.1, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=800)
