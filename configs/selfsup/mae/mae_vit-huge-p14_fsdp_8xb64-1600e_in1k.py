# MAE ViT-H/14 (1280-d x 32 blocks, 16 heads, 14-px patches: a 16 x 16 grid
# at 224 px) with FSDP2; otherwise the paper's ViT-L recipe: 1600 epochs,
# mask 0.75, decoder 8 x 512-d, norm_pix_loss, AdamW base lr 1.5e-4 x
# (batch / 256), betas (0.9, 0.95), wd 0.05, 40 warm-up epochs then cosine.
# 8 GPUs x 64 = 512 images per step; the paper's 4096 is
# optim_wrapper.accumulative_counts=8. Activation checkpointing per block
# is on (each block's forward runs again in backward: about a third more
# compute for a fraction of the activation memory); turn it off with
# --cfg-options model_wrapper_cfg.activation_checkpointing=False where the
# activations fit.
_base_ = ['./mae_vit-large-p16_fsdp_8xb64-1600e_in1k.py']
model = dict(backbone=dict(arch='huge', patch_size=14))
model_wrapper_cfg = dict(activation_checkpointing=True)
