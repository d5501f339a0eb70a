# BERT-Tiny (2 layers x 128, 2 heads, MLP 512; Turc et al. 2019) masked
# language modelling on WikiText-2's validation + test text, cut to what a
# shared 2-core CPU trains in about ten minutes in bf16: the shipped
# BERT-Mini recipe (128-token packed blocks, batch 32, 8k WordPiece
# vocabulary, 2% of the articles held out) with a narrower, shallower
# encoder, a larger step and 4,000 steps (400 warm-up; ~27 passes over the
# 4.6k training blocks).
#   python tools/train.py \
#       configs/experiments/bert_bert-tiny_1xb32-4kiter_wikitext2.py --amp
_base_ = ['../selfsup/bert/bert_bert-mini_1xb32-2kiter_wikitext2.py']
model = dict(backbone=dict(embed_dim=128, depth=2, num_heads=2))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_iters = 400
train_cfg = dict(max_iters=4000, val_interval=1000)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=1000, max_keep_ckpts=1))
log_processor = dict(window_size=50)
