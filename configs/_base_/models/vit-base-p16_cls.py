# ViT-B/16 classifier as MAE finetunes it: global average pooling of patch
# tokens + fc_norm, drop path 0.1, head init std 2e-5, learned positions
# (initialised from the checkpoint), timm Mixup 0.8 / CutMix 1.0, switch 0.5,
# label smoothing 0.1 folded into the soft targets.
num_classes = 1000
model = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer', arch='base', img_size=224,
                  patch_size=16, global_pool='avg', pos_embed='learned',
                  drop_path_rate=0.1),
    head=dict(type='LinearClsHead', num_classes=num_classes, init_std=2e-5),
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
        num_classes=num_classes,
        mixup=dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0,
                   switch_prob=0.5, mode='batch', label_smoothing=0.1)),
)
