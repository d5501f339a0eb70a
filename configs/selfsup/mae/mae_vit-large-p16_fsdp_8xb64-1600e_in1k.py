# MAE ViT-L/16 with FSDP2: the recipe of mae_vit-large-p16_8xb64-1600e_in1k.py
# unchanged (batch, lr, schedule, masking), parameters, gradients and AdamW
# state sharded per transformer block over the processes, bf16 parameters
# and compute with fp32 gradient reduction (the optimizer keeps fp32
# master weights). Checkpoints are sharded folders (epoch_N.dcp);
# tools/consolidate_checkpoint.py joins one into a single file.
# See docs/distributed.md, "DDP or FSDP".
_base_ = ['./mae_vit-large-p16_8xb64-1600e_in1k.py']
model_wrapper_cfg = dict(
    type='FSDP2',
    mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32'),
    activation_checkpointing=False,
    cpu_offload=False)
