# MoCo v3 ViT-S/16 (Chen, Xie, He 2021; facebookresearch/moco-v3
# CONFIG.md): ViT-S with 12 heads as the release (DeiT-S has 6), fixed
# sin-cos positions, frozen random patch projection; projector 3 x 4096 ->
# 256, predictor 2 x 4096 -> 256; temperature 0.2, momentum 0.99 -> 1
# (cosine).
model = dict(
    type='MoCoV3',
    backbone=dict(type='VisionTransformer', arch='small', num_heads=12,
                  img_size=224, patch_size=16),
    projector=dict(type='ProjectionMLP', hidden_channels=4096,
                   out_channels=256, num_layers=3),
    predictor=dict(type='ProjectionMLP', hidden_channels=4096,
                   out_channels=256, num_layers=2),
    temperature=0.2,
    base_momentum=0.99,
    stop_grad_patch_proj=True,
)
