# FLIP ViT-L/16: image tower ViT-L/16 (1024-d x 24), text tower 12 x 768-d
# (12 heads), joint space 768-d, 50% image masking.
_base_ = ['./flip_vit-base-p16.py']
model = dict(
    embed_dim=768,
    backbone=dict(arch='large'),
    text_backbone=dict(width=768, depth=12, num_heads=12),
)
