# MAE ViT-Small (384-d x 12, 6 heads) at 32x32 on CIFAR-10: the MAE-Lite
# distillation teacher.
_base_ = ['./mae_vit-tiny-p4_1xb256-200e_cifar10.py']
model = dict(backbone=dict(arch='small'),
             neck=dict(decoder_embed_dim=192, decoder_num_heads=6))
