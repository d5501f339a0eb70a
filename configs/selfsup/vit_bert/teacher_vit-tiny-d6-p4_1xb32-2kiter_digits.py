# The image teacher, and the separately trained ViT the students are
# compared with: a ViT-Tiny (6 blocks, 32 px, patch 4) trained with labels
# on digits alone by the students' image-side recipe, so that it differs
# from them only in seeing no text: 2,000 steps of 32 images (the students'
# image share of a step), the same crop augmentation and no mixup, AdamW
# at the students' lr (5e-4), linear warm-up over the first tenth, then
# linear decay to zero, gradient clipping at 1.0. Its last checkpoint is
# what the distilling students read (model.image_teacher), with this model.
#   python tools/train.py THIS_CONFIG
_base_ = [
    '../../_base_/models/vit-tiny-p4_cls.py',
    '../../_base_/datasets/digits_cls.py',
    '../../_base_/schedules/adamw_linear_bert_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(depth=6),
             data_preprocessor=dict(mixup=None))
train_dataloader = dict(batch_size=32)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=32)
warmup_iters = 200
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=2))
log_processor = dict(window_size=20, by_epoch=False)
test_cfg = dict(type='TestLoop')
