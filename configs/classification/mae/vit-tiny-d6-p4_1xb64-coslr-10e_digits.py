# The embedded default finetune: the 6-block ViT-Tiny (32 px, patch 4) from
# configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py, finetuned on
# Digits(split='train') and evaluated (top-1/top-5) on the held-out
# Digits(split='val') after every epoch. A few minutes on 2 CPU cores.
# Another pretrain checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# The baseline from random init:
#   vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py
_base_ = [
    '../../_base_/models/vit-tiny-p4_cls.py',
    '../../_base_/datasets/digits_cls.py',
    '../../_base_/schedules/adamw_layer-decay_coslr_finetune.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(
    depth=6,
    init_cfg=dict(type='Pretrained',
                  checkpoint='work_dirs/mae_vit-tiny-d6-p4_1xb64-30e_digits/'
                  'epoch_30.pth')))
# batch 64: base lr 2e-3 per 256 -> 5e-4; a 6-block net decays less per layer
optim_wrapper = dict(optimizer=dict(lr=2e-3),
                     paramwise_cfg=dict(layer_decay_rate=0.75))
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=10, val_interval=1)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
