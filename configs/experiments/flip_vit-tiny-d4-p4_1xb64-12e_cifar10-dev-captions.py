# Results-page FLIP: the CIFAR-10 captions config (4-block ViT-Tiny at 32
# px, 2 x 128-d text tower, captions = class name x the 10 'cifar'
# templates) on the 10k-image dev train split, 50% of patches masked, 12
# epochs (1 warm-up, cosine); zero-shot top-1 on the 2,000 dev val images at
# the end. Its CLIP twin (clip_..._7e) trains unmasked for the same
# wall-clock.
_base_ = '../selfsup/flip/flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions.py'
model = dict(mask_ratio=0.5)
warmup_epochs = 1
train_cfg = dict(max_epochs=12, val_interval=12)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=12, max_keep_ckpts=1))
log_processor = dict(window_size=20)
