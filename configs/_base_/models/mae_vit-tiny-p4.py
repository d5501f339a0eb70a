# MAE for 32x32 images: ViT-Tiny (192-d, 12 blocks, 3 heads) with 4x4 patches
# (an 8x8 grid), a 128-d x 2 decoder. MAE-Lite's Tiny recipe uses 12 heads
# and a 96-d x 1 decoder; see configs/selfsup/mae_lite/.
model = dict(
    type='MAE',
    mask_ratio=0.75,
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4),
    neck=dict(type='MAEDecoder', decoder_embed_dim=128, decoder_depth=2,
              decoder_num_heads=4),
    head=dict(type='MAEPretrainHead', norm_pix=True),
)
