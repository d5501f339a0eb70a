# The results-page finetune at 5 epochs (1 warm-up), the length that fit
# the loaded 2-core CPU of the recorded runs; otherwise identical to the
# 10-epoch config it inherits.
_base_ = './vit-tiny-d6-p4_1xb256-coslr-10e_cifar10-dev.py'
train_cfg = dict(max_epochs=5)
default_hooks = dict(checkpoint=dict(interval=5))
