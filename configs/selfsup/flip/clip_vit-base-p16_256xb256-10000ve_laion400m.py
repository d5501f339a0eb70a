# The CLIP baseline of the FLIP paper: the same ViT-B/16 recipe without
# image masking (mask_ratio 0), so each step costs about twice the masked
# one and needs about twice the memory per image.
_base_ = ['./flip_vit-base-p16_256xb256-10000ve_laion400m.py']
model = dict(mask_ratio=0.0)
