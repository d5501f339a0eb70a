"""Shared by the BERT tests: the WikiText-2 text in the shared data folder
and a tiny masked-language-modelling config trained on it (a 2-block,
32-wide BERT over 32-token blocks, its own 600-word vocabulary)."""
import os.path as osp

import pytest
from reliab_helpers import REPO

from easymae.text.wordpiece import train_wordpiece

SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'text')
need_shared = pytest.mark.skipif(
    not osp.isdir(SHARED), reason='shared text data (../shared/data/text) '
    'not beside this checkout')

TINY_MLM = '''
_base_ = [{base!r}]
data_root = {root!r}
vocab = {vocab!r}
model = dict(vocab_file=vocab, backbone=dict(
    vocab_size={size}, max_position_embeddings=32, embed_dim=32, depth=2,
    num_heads=2))
corpus = dict(files=['wikitext2/valid.txt'], data_root=data_root,
              pack_tokens=32, vocab_file=vocab, holdout=0.5)
pipeline = [dict(type='TokenizeText', vocab_file=vocab, max_length=32),
            dict(type='PackTextInputs')]
train_dataloader = dict(batch_size=16, dataset=dict(
    data_source=dict(corpus, split='train'), pipeline=pipeline))
# validation on the last 2% of the documents (inside the held-out half),
# ~25 batches instead of ~600: the tests' time
val_dataloader = dict(batch_size=16, dataset=dict(
    data_source=dict(corpus, split='holdout', holdout=0.02),
    pipeline=pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-2))
warmup_iters = 3
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={iters}))
log_processor = dict(window_size=1)
'''


def mlm_config(tmp_path, iters):
    """The tiny MLM config as ``tmp_path/mlm.py``; returns it, the
    vocabulary file and its size."""
    vocab = tmp_path / 'vocab.json'
    with open(osp.join(SHARED, 'wikitext2', 'valid.txt'),
              encoding='utf-8') as f:
        lines = [line for line in f if line.strip()][:300]
    tok = train_wordpiece(lines, 600, min_frequency=2)
    tok.save(str(vocab))
    cfg = tmp_path / 'mlm.py'
    cfg.write_text(TINY_MLM.format(
        base=osp.join(REPO, 'configs/selfsup/bert/'
                      'bert_bert-mini_1xb32-2kiter_wikitext2.py'),
        root=SHARED, vocab=str(vocab), size=tok.vocab_size, iters=iters))
    return cfg, vocab, tok.vocab_size
