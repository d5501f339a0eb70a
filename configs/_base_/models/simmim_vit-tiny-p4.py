# SimMIM for 32x32 images: ViT-Tiny (192-d, 12 blocks, 3 heads), 4x4 patches
# (an 8x8 grid), decoder 1x1 conv + PixelShuffle(4).
# Mask blocks of 8 px: twice the model patch, as the reference's 32 px
# blocks over 16 px patches, on a 4x4 coarse grid; ceil(0.6 x 16) = 10 of 16
# blocks (62.5%) are masked. 16 px blocks would leave a 2x2 grid with
# ceil(0.6 x 4) = 3 of 4 masked (75%), far from the intended 60%.
model = dict(
    type='SimMIM',
    mask_source='auto',
    mask_ratio=0.6,
    mask_patch_size=8,
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, drop_path_rate=0.1),
    neck=dict(type='SimMIMDecoder'),  # encoder_stride = patch size 4
    head=dict(type='SimMIMHead'),
)
