# SST-2 with 1,000 training phrases (a fixed random subset, seed 0) for the
# small-data comparison: same model and dev set as the full-data config,
# 10 epochs of 31 steps, warm-up over the first tenth.
_base_ = ['./bert-mini_1xb32-3e_sst2.py']
train_dataloader = dict(dataset=dict(data_source=dict(max_samples=1000,
                                                      seed=0)))
warmup_iters = 31
train_cfg = dict(max_iters=310, val_interval=31)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=310))
log_processor = dict(window_size=10)
