# The FLIP ViT-B/16 recipe (Li et al., 2023; values from facebookresearch/
# flip, configs/default.py and cfg_flip_*.py): 50% image masking, batch
# 65,536 (256 GPUs x 256), lr 4e-6 per 256 -> 1.024e-3, AdamW (0.9, 0.95),
# wd 0.2, 40 warm-up and 10,000 "virtual ImageNet epochs" (ve; 12.8 B pairs
# ~ 32 LAION-400M epochs), text length 32. Paper: 68.0% zero-shot
# ImageNet top-1 after unmasked tuning (see the _unmasked-tuning_ config).
_base_ = [
    '../../_base_/models/flip_vit-base-p16.py',
    '../../_base_/datasets/laion400m_flip.py',
    '../../_base_/schedules/adamw_coslr_flip_pretrain.py',
    '../../_base_/default_runtime.py',
]
resume = True
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
