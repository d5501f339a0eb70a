# SimMIM ViT-B/16: the encoder sees all 196 tokens, masked ones replaced by
# a learnable mask token; a 1x1 conv + PixelShuffle(16) decoder; L1 loss on
# masked pixels. As the reference's encoder: layer scale starting at 0.1
# (init_values, timm's name) and a final norm before the decoder (the
# reference applies it whenever mean pooling is off, as in pretraining).
# Unlike it, our ViT keeps the timm names and absolute sin-cos positions
# (the reference uses a shared relative position bias instead).
# The mask comes from SimMIMMaskGenerator in the pipeline; without one
# (mask_source='auto') the model draws the same kind of mask on the device.
model = dict(
    type='SimMIM',
    mask_source='auto',
    mask_ratio=0.6,
    mask_patch_size=32,
    backbone=dict(type='VisionTransformer', arch='base', img_size=224,
                  patch_size=16, drop_path_rate=0.1, init_values=0.1),
    neck=dict(type='SimMIMDecoder'),  # encoder_stride = patch size 16
    head=dict(type='SimMIMHead'),
)
