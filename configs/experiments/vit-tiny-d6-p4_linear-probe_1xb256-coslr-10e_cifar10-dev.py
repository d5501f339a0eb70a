# Results-page linear probe: the 6-block ViT-Tiny MAE encoder frozen, cls
# token after the final norm -> BatchNorm1d(affine=False) -> linear head
# (MAE's protocol), SGD as in the shipped linear-probe schedule, 10 epochs
# (1 warm-up) on the dev train split, no augmentation beyond crop and flip.
_base_ = [
    '../_base_/datasets/cifar10_cls.py',
    '../_base_/schedules/sgd_coslr_linear-probe.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer', arch='tiny', depth=6, img_size=32,
        patch_size=4, global_pool='token', frozen_stages=6,
        init_cfg=dict(type='Pretrained',
                      checkpoint='work_dirs/results/'
                      'mae_vit-tiny6-p4_1xb128-20e/epoch_20.pth')),
    neck=dict(type='BatchNormNeck', eps=1e-6, affine=False),
    head=dict(type='LinearClsHead', num_classes=10, init_std=0.01),
    data_preprocessor=dict(type='ClsDataPreprocessor',
                           mean=(123.675, 116.28, 103.53),
                           std=(58.395, 57.12, 57.375)))
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=32, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
warmup_epochs = 1
train_cfg = dict(max_epochs=10, val_interval=1)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
