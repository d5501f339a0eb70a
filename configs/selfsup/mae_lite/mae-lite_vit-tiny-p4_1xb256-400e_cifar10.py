# MAE-Lite pretraining recipe for ViT-Tiny (wangsr126/mae-lite), at 32x32:
# mask 0.75, norm_pix, AdamW (0.9, 0.95), wd 0.05, base lr 1.5e-4 per 256,
# 40 warm-up epochs, cosine to 0, RandomResizedCrop scale (0.08, 1).
_base_ = [
    '../../_base_/models/mae-lite_vit-tiny-p4.py',
    '../../_base_/datasets/cifar10_mae.py',
    '../../_base_/schedules/adamw_coslr_mae_pretrain.py',
    '../../_base_/default_runtime.py',
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=32, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='PackInputs'),
]))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400)
default_hooks = dict(checkpoint=dict(interval=20, max_keep_ckpts=2))
