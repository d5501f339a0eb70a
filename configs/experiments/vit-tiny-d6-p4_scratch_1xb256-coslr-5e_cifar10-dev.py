# The 5-epoch finetune recipe from random initialisation (no layer decay,
# as in the 10-epoch scratch config): the baseline MAE has to beat.
_base_ = './vit-tiny-d6-p4_1xb256-coslr-5e_cifar10-dev.py'
model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))
