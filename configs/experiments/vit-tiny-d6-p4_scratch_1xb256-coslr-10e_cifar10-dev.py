# The same 10-epoch finetune recipe from random initialisation: the
# baseline MAE pretraining has to beat. One change, as in the digits scratch
# config: no layer-wise lr decay (rate 1.0), which would only starve the
# lower layers of a random init and flatter the comparison.
_base_ = './vit-tiny-d6-p4_1xb256-coslr-10e_cifar10-dev.py'
model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))
