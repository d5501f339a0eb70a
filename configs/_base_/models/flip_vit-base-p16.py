# FLIP ViT-B/16 (Li et al., 2023; facebookresearch/flip): image tower
# ViT-B/16 at 224 px with 50% of patches removed in training, average-pooled;
# text tower a 12 x 512-d causal transformer (8 heads) over 32 CLIP-BPE
# tokens (the FLIP repository's max_len 32; CLIP uses 77); joint space 512-d;
# learned temperature from 1/0.07, capped at 100.
model = dict(
    type='FLIP',
    embed_dim=512,
    mask_ratio=0.5,
    backbone=dict(type='VisionTransformer', arch='base', img_size=224,
                  patch_size=16, global_pool='avg'),
    text_backbone=dict(type='TextTransformer', context_length=32,
                       width=512, depth=12, num_heads=8),
)
