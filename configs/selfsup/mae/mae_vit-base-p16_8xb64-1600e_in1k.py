# The reference MAE recipe (He et al.; facebookresearch/mae PRETRAIN.md):
# ViT-B/16, mask 0.75, decoder 8 x 512-d, norm_pix_loss, AdamW base lr
# 1.5e-4 x (total batch / 256), betas (0.9, 0.95), wd 0.05, 40 warm-up
# epochs then cosine to 0, RandomResizedCrop(224, scale=(0.2, 1)) + flip.
# 8 GPUs x 64 = 512 images per step; the paper's 4096 is 8 GPUs x 64 x
# accumulative_counts=8 (set optim_wrapper.accumulative_counts=8).
_base_ = [
    '../../_base_/models/mae_vit-base-p16.py',
    '../../_base_/datasets/imagenet_mae.py',
    '../../_base_/schedules/adamw_coslr_mae_pretrain.py',
    '../../_base_/default_runtime.py',
]
# Weight decay as the reference (timm's add_weight_decay): none on 1-D
# parameters (norms) and biases only, so cls_token and mask_token decay at
# 0.05 too; pos_embed is the fixed sin-cos table (requires_grad=False),
# which no step changes. The shared schedule's exemption of the tokens
# stays for the small-data recipes (and their recorded results).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(_delete_=True)))
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=3))
resume = True
