# The embedded-default finetune recipe from random initialisation: the
# baseline that shows what MAE pretraining adds (tools/main_job.py prints
# both top-1s). One change: no layer-wise lr decay (rate 1.0). Decay keeps
# the lower layers near their *pretrained* values; from random init it would
# only starve them (layer 0 at 0.13x the lr) and flatter the comparison.
_base_ = './vit-tiny-d6-p4_1xb64-coslr-10e_digits.py'
model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))
