# Unmasked tuning of the tiny COCO run: every patch visible (mask_ratio 0),
# starting from its last checkpoint, 5 epochs at a tenth of the lr.
_base_ = ['./flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini.py']
model = dict(mask_ratio=0.0)
load_from = 'work_dirs/flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini/' \
    'epoch_30.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-5))
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=5)
default_hooks = dict(checkpoint=dict(interval=5))
