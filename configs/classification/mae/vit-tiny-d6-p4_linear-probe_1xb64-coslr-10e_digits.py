# Linear probing on the embedded default: the digits MAE backbone frozen,
# cls token after the final norm, BatchNorm1d(affine=False) + linear head.
_base_ = [
    '../../_base_/datasets/digits_cls.py',
    '../../_base_/schedules/sgd_coslr_linear-probe.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer', arch='tiny', depth=6, img_size=32,
        patch_size=4, global_pool='token', frozen_stages=6,
        init_cfg=dict(type='Pretrained',
                      checkpoint='work_dirs/mae_vit-tiny-d6-p4_1xb64-30e_digits/'
                      'epoch_30.pth')),
    neck=dict(type='BatchNormNeck', eps=1e-6, affine=False),
    head=dict(type='LinearClsHead', num_classes=10, init_std=0.01),
    data_preprocessor=dict(type='ClsDataPreprocessor',
                           mean=(123.675, 116.28, 103.53),
                           std=(58.395, 57.12, 57.375)))
warmup_epochs = 1
train_cfg = dict(max_epochs=10, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
