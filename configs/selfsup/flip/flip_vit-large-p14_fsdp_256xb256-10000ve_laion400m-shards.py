# FLIP ViT-L/14 at the scale of the paper: the ViT-L/16 recipe
# (flip_vit-large-p16_256xb256-10000ve_laion400m.py: 50% masking, batch
# 65,536, lr 4e-6 per 256, AdamW (0.9, 0.95), wd 0.2, 40 + 10,000 virtual
# epochs, text length 32) with 14 px patches (256 patches at 224 px),
# LAION-style pairs streamed from webdataset tar shards, and FSDP2:
# parameters, gradients and AdamW state sharded per transformer block of
# both towers, bf16 compute with fp32 gradient reduction. The contrastive
# loss is open_clip's local loss (each rank's rows against the gathered
# batch: 256 x 65,536 logits per rank instead of 65,536 x 65,536).
_base_ = [
    '../../_base_/models/flip_vit-large-p16.py',
    '../../_base_/datasets/laion400m_flip_shards.py',
    '../../_base_/schedules/adamw_coslr_flip_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(patch_size=14))
model_wrapper_cfg = dict(
    type='FSDP2',
    mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32'),
    activation_checkpointing=True,
    cpu_offload=False)
resume = True
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
