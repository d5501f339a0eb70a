# CLIP (no masking) at the wall-clock of FLIP's 12 epochs in
# flip_vit-tiny-d4-p4_1xb64-12e_cifar10-dev-captions.py: an unmasked step
# costs 1.65x a 50%-masked one (benchmarks/train_step.py, 1 thread, bf16,
# batch 64: 75 vs 123 img/s), so 12 / 1.65 = 7 epochs.
_base_ = './flip_vit-tiny-d4-p4_1xb64-12e_cifar10-dev-captions.py'
model = dict(mask_ratio=0.0)
train_cfg = dict(max_epochs=7, val_interval=7)
default_hooks = dict(checkpoint=dict(interval=7))
