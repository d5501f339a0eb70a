# Results-page finetune (docs/results.md): the shipped CIFAR-10 ViT-Tiny
# finetune recipe (MAE-Lite's: base lr 1e-3, layer decay 0.85, mixup 0.2,
# RandAugment, global pool) on the 6-block ViT-Tiny of the results-page
# pretraining, cut to 10 epochs (1 warm-up) on the 10k-image dev train
# split; validated on dev val. The pretrain checkpoint is set per run with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = '../classification/mae/vit-tiny-p4_1xb256-coslr-100e_cifar10.py'
model = dict(backbone=dict(depth=6, init_cfg=dict(
    checkpoint='work_dirs/results/mae_vit-tiny6-p4_1xb128-20e/epoch_20.pth')))
warmup_epochs = 1
train_cfg = dict(max_epochs=10, val_interval=1)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
