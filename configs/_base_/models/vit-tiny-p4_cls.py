# ViT-Tiny for 32x32 images (4x4 patches, an 8x8 grid), 10 classes, global
# average pooling. Regularisation follows MAE-Lite's finding that small ViTs
# want it weaker than ViT-B: mixup 0.2, no cutmix, no drop path.
num_classes = 10
model = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, global_pool='avg', pos_embed='learned',
                  drop_path_rate=0.0),
    head=dict(type='LinearClsHead', num_classes=num_classes, init_std=2e-5),
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
        num_classes=num_classes,
        mixup=dict(mixup_alpha=0.2, cutmix_alpha=0.0, prob=1.0,
                   switch_prob=0.0, mode='batch', label_smoothing=0.1)),
)
