# The FLIP ViT-L/16 recipe: as ViT-B/16 (50% masking, batch 65,536, lr 4e-6
# per 256, AdamW (0.9, 0.95), wd 0.2, 40 + 10,000 virtual epochs, text
# length 32) with a ViT-L/16 image tower and a 768-d text tower and joint
# space. Paper: 74.3% zero-shot ImageNet top-1 (LAION-400M, 12.8 B pairs).
_base_ = [
    '../../_base_/models/flip_vit-large-p16.py',
    '../../_base_/datasets/laion400m_flip.py',
    '../../_base_/schedules/adamw_coslr_flip_pretrain.py',
    '../../_base_/default_runtime.py',
]
resume = True
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
