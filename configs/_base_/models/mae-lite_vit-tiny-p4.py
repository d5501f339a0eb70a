# MAE-Lite's ViT-Tiny (Wang et al. 2023): 192-d x 12 blocks with 12 heads
# (instead of 3), a 96-d x 1-block decoder with 3 heads; here for 32x32
# images with 4x4 patches.
model = dict(
    type='MAE',
    mask_ratio=0.75,
    backbone=dict(type='VisionTransformer', arch='tiny', num_heads=12,
                  img_size=32, patch_size=4),
    neck=dict(type='MAEDecoder', decoder_embed_dim=96, decoder_depth=1,
              decoder_num_heads=3),
    head=dict(type='MAEPretrainHead', norm_pix=True),
)
