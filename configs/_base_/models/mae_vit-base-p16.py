# MAE ViT-B/16: 768-d x 12 encoder, 512-d x 8 decoder, 75% masking,
# normalised-pixel loss.
model = dict(
    type='MAE',
    mask_ratio=0.75,
    backbone=dict(type='VisionTransformer', arch='base', img_size=224,
                  patch_size=16),
    neck=dict(type='MAEDecoder', decoder_embed_dim=512, decoder_depth=8,
              decoder_num_heads=16),
    head=dict(type='MAEPretrainHead', norm_pix=True),
)
