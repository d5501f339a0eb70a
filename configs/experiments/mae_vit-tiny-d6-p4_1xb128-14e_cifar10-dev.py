# Lightweight-ViT study (docs/results.md, section 5): the results page's
# MAE pretraining (mask 0.75, norm_pix, decoder 128 x 2, base lr 1e-3 per
# 256, 2 warm-up epochs, cosine) cut to 14 epochs, the study's budget: on
# 2 CPU cores in fp32 that is what four pretrainings and their evaluations
# fit, and it buys MoCo v3 and DINO whole epochs (2 and 1).
_base_ = './mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev.py'
train_cfg = dict(max_epochs=14)
default_hooks = dict(checkpoint=dict(interval=7))
