# The reference SimMIM ViT-B/16 recipe (Xie et al.; microsoft/SimMIM
# configs/vit_base__800ep): 800 epochs at 224 px, 60% masking of 32 px
# blocks, L1 on masked pixels, 1x1-conv decoder.
# Optimisation (_base_/schedules/adamw_step_simmim_pretrain.py):
#   AdamW betas (0.9, 0.999), eps 1e-8, wd 0.05, grad clip 5.0;
#   base lr 1e-4 per 512 images, scaled linearly with the total batch
#   (8 GPUs x 256 = 2048 -> 4e-4; the reference README's 16 x 128 is the
#   same 2048); 10 warm-up epochs from 5e-7 (x the same scale), then
#   constant with one x0.1 step at epoch 700, as the reference (the
#   milestone, 690, counts from the warm-up's end).
# Encoder as the reference's: layer scale from 0.1 (init_values) and a
# final norm before the decoder (the reference applies it whenever mean
# pooling is off, as in pretraining).
# Differences from the reference: our ViT keeps timm's names, absolute
# sin-cos positions and a full qkv bias (the reference uses a shared
# relative position bias and BEiT-style q/v biases), so its checkpoints
# convert to timm / our classifier by prefix alone.
#
# Fine-tuning (reference): 100 epochs, base lr 1.25e-3 per 512, 20 warm-up
# epochs from 2.5e-7, cosine to 2.5e-7, AdamW wd 0.05, layer decay 0.65,
# drop path 0.1, mean pooling (global_pool='avg'), mixup 0.8 / cutmix 1.0,
# label smoothing 0.1, RandAugment m9, random erasing 0.25, colour jitter
# 0.4 -> 83.8% top-1. Use the ViT-B finetune config
# configs/classification/mae/vit-base-p16_8xb128-coslr-100e_in1k.py with
# the converted checkpoint, layer decay 0.65 and
# model.backbone.init_values=0.1 (the checkpoint holds the layer-scale
# gammas).
_base_ = [
    '../../_base_/models/simmim_vit-base-p16.py',
    '../../_base_/datasets/imagenet_simmim.py',
    '../../_base_/schedules/adamw_step_simmim_pretrain.py',
    '../../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=3))
resume = True
