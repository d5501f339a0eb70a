# A FLIP small enough to train on a laptop CPU: ViT-Tiny width (192-d,
# 3 heads) cut to 4 blocks, 32 px images in 4 px patches (64 patches, 32
# visible at 50% masking); a 2 x 128-d causal text transformer over 32
# CLIP-BPE tokens; 128-d joint space.
model = dict(
    type='FLIP',
    embed_dim=128,
    mask_ratio=0.5,
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, depth=4, global_pool='avg'),
    text_backbone=dict(type='TextTransformer', context_length=32,
                       width=128, depth=2, num_heads=4),
)
