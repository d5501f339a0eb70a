# ViT-L/16 classifier, MAE's finetune settings (drop path 0.2); otherwise as
# vit-base-p16_cls.py.
_base_ = './vit-base-p16_cls.py'
model = dict(backbone=dict(arch='large', drop_path_rate=0.2))
