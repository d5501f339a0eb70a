# SST-2 with the fixed 1,000-phrase training subset (seed 0), from the
# CPU BERT-Tiny MLM checkpoint: the shipped BERT-Mini 1k recipe (10 epochs
# of 31 steps, warm-up over the first tenth, dev set evaluated each epoch)
# on the narrower encoder.
#   python tools/train.py \
#       configs/experiments/bert-tiny_1xb32-10e_sst2-1k.py --amp
_base_ = ['./bert-tiny_1xb32-3e_sst2.py']
train_dataloader = dict(dataset=dict(data_source=dict(max_samples=1000,
                                                      seed=0)))
warmup_iters = 31
train_cfg = dict(max_iters=310, val_interval=31)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=310))
log_processor = dict(window_size=10)
