# The same SST-2 finetune as bert-tiny_1xb32-3e_sst2.py from a random
# init: no pretrained encoder and no layer decay (decay would only slow the
# lower layers of a random init). Same vocabulary, so the two differ only
# in the encoder's starting weights.
#   python tools/train.py \
#       configs/experiments/bert-tiny_scratch_1xb32-3e_sst2.py --amp
_base_ = ['./bert-tiny_1xb32-3e_sst2.py']
model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))
