# Lightweight-ViT study (docs/results.md, section 5): MoCo v3 on the
# 6-block ViT-Tiny of the results page, batch 128, for the wall-clock of the
# study's 14-epoch MAE pretraining. A MoCo v3 step sends every patch of two
# views through the base encoder and the momentum encoder: per image it
# costs 7.3x an MAE step (benchmarks/train_step.py --config, 1 thread,
# fp32), so 14 MAE epochs buy 1.9 MoCo v3 epochs, rounded to 2.
# The shipped CIFAR-10 recipe otherwise: frozen random patch projection,
# temperature 0.2, momentum 0.99 -> 1 (cosine), projector 3 x 4096 -> 256,
# predictor 2 x 4096 -> 256, AdamW wd 0.1. The base lr is the results
# page's MAE one (1e-3 per 256 images: short schedules want more than a
# 300-epoch run's 1.5e-4); the warm-up keeps the paper's share (40 of 300
# epochs: a quarter epoch here). Not tuned on this data.
_base_ = '../selfsup/mocov3/mocov3_vit-tiny-p4_1xb256-300e_cifar10.py'
model = dict(backbone=dict(depth=6))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_epochs = 0.25
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=1, max_keep_ckpts=1))
