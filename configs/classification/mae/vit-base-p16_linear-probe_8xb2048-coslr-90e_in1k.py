# MAE linear probing of ViT-B/16 on ImageNet-1k: the whole backbone frozen
# (frozen_stages = depth), the cls token after the final norm as the feature,
# BatchNorm1d(affine=False, eps=1e-6) then a linear head (init std 0.01).
# No mixup, no drop path; crop + flip only. SGD instead of MAE's LARS (see
# the schedule). Reference (LARS, batch 16384): 67.8 top-1.
_base_ = [
    '../../_base_/datasets/imagenet_cls.py',
    '../../_base_/schedules/sgd_coslr_linear-probe.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer', arch='base', img_size=224, patch_size=16,
        global_pool='token', frozen_stages=12,
        init_cfg=dict(type='Pretrained',
                      checkpoint='work_dirs/mae_vit-base-p16_8xb64-1600e_in1k/'
                      'epoch_1600.pth')),
    neck=dict(type='BatchNormNeck', eps=1e-6, affine=False),
    head=dict(type='LinearClsHead', num_classes=1000, init_std=0.01),
    data_preprocessor=dict(type='ClsDataPreprocessor',
                           mean=(123.675, 116.28, 103.53),
                           std=(58.395, 57.12, 57.375)))
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=224, interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=2048, dataset=dict(pipeline=train_pipeline))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
