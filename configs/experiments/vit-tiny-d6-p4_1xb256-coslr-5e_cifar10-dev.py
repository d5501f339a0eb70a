# The results-page finetune at 5 epochs (1 warm-up), the length that fit
# the loaded 2-core CPU of the recorded runs; otherwise identical to the
# 10-epoch config it inherits.
_base_ = './vit-tiny-d6-p4_1xb256-coslr-10e_cifar10-dev.py'
warmup_epochs = 1
max_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=5e-4, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
