# MoCo v3 ViT-B/16: the ViT-S recipe (same lr, wd, schedule, temperature,
# momentum and frozen patch projection; moco-v3 CONFIG.md) with the base
# encoder.
_base_ = ['./mocov3_vit-small-p16_16xb256-300e_in1k.py']
model = dict(backbone=dict(arch='base', num_heads=12))
