# Results-page pretraining (docs/results.md): the shipped CIFAR-10 MAE
# ViT-Tiny recipe cut to fit a few hours on 2 CPU cores:
# - a 6-block ViT-Tiny (192-d, 3 heads, as the embedded digits default):
#   half the cost of 12 blocks;
# - 20 epochs on the 10k-image dev train split, batch 128 (more updates
#   for the same images), a 2-epoch warm-up;
# - base lr 1e-3 per 256 (5e-4 at batch 128): a short schedule wants more
#   than the 1.5e-4 of 1600-epoch ImageNet runs. Not tuned on this data.
_base_ = '../selfsup/mae/mae_vit-tiny-p4_1xb256-200e_cifar10.py'
model = dict(backbone=dict(depth=6))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_epochs = 2
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
