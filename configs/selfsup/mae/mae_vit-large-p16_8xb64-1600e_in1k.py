# MAE ViT-L/16 (1024-d x 24 blocks, 16 heads); decoder and recipe as ViT-B.
# The official release's ViT-L checkpoint was trained 1600 epochs; the
# paper's ablations use 800.
_base_ = ['./mae_vit-base-p16_8xb64-1600e_in1k.py']
model = dict(backbone=dict(arch='large'))
