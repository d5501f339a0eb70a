# bert-tiny_1xb32-10e_sst2-1k.py from a random init (no pretrained
# encoder, no layer decay): the baseline the pretrained encoder must beat.
#   python tools/train.py \
#       configs/experiments/bert-tiny_scratch_1xb32-10e_sst2-1k.py --amp
_base_ = ['./bert-tiny_1xb32-10e_sst2-1k.py']
model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))
