"""BERT: masking rule, padding, loss positions, the HF layout import, layer
decay ids, bad input, and a real training run (tools/train.py; under
torchrun: tests/engine/test_fsdp_models.py)."""
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from bert_utils import SHARED, mlm_config, need_shared
from reliab_helpers import REPO, run_train

import easymae  # noqa: F401 (registers)
from easymae.fileio.state_dict import CheckpointMismatchError
from easymae.hub.pretrained import PretrainedInit, load_model_checkpoint
from easymae.models.algorithms.bert import mask_tokens, num_to_mask
from easymae.registry import MODELS
from easymae.text.wordpiece import train_wordpiece

TEXT = [
    'The river runs past the old mill and under the stone bridge.',
    'In spring the fields by the river turn green and the birds return.',
    'The miller grinds wheat into flour and sells it in the town.',
    'Children walk over the bridge to the school on the hill.',
    'At night the mill is quiet and the river is loud.',
    'The town holds a market by the bridge every week in summer.',
] * 4


def tiny_bert(vocab_size=120, post_norm=True, num_heads=2, **kw):
    return MODELS.build(dict(type='BERT', **kw, backbone=dict(
        type='BertEncoder', vocab_size=vocab_size, embed_dim=32, depth=2,
        num_heads=num_heads, max_position_embeddings=40,
        post_norm=post_norm)))


def test_mask_count_is_exact_and_special_tokens_are_never_chosen():
    torch.manual_seed(0)
    N, T = 64, 40
    ids = torch.randint(5, 100, (N, T))
    lengths = torch.randint(3, T + 1, (N,))
    attention = (torch.arange(T)[None] < lengths[:, None]).long()
    ids[:, 0] = 2                                      # [CLS]
    ids[torch.arange(N), lengths - 1] = 3              # [SEP]
    ids[attention == 0] = 0                            # [PAD]
    ids[5, 3] = 1                                      # an [UNK] in text
    special = torch.tensor([0, 1, 2, 3, 4])
    maskable = attention.bool() & ~torch.isin(ids, special)
    _, mask = mask_tokens(ids, maskable, 0.15, 4, torch.arange(5, 100))
    n = maskable.sum(1)
    expected = [max(1, round(0.15 * int(k))) for k in n]  # Python's round
    assert mask.sum(1).tolist() == expected
    assert not (mask & ~maskable).any()
    assert num_to_mask(torch.tensor([0, 1, 10, 30]), 0.15).tolist() == \
        [0, 1, 2, 4]  # round(1.5) = 2, round(4.5) = 4: half to even


def test_80_10_10_split_over_many_draws():
    torch.manual_seed(1)
    ids = torch.randint(5, 1000, (256, 128))
    maskable = torch.ones_like(ids, dtype=torch.bool)
    replace = torch.arange(5, 1000)
    counts = torch.zeros(3)
    for _ in range(4):
        out, mask = mask_tokens(ids, maskable, 0.15, 4, replace)
        chosen_out, chosen_in = out[mask], ids[mask]
        as_mask = chosen_out == 4
        kept = chosen_out == chosen_in
        counts += torch.tensor([as_mask.sum(), (~as_mask & ~kept).sum(),
                                kept.sum()], dtype=torch.float)
        assert (out[~mask] == ids[~mask]).all()
        assert (chosen_out >= 4).all()  # random ones are never special
    share = counts / counts.sum()
    # 4 x 256 x 19 = 19,456 chosen tokens: 3 sigma is under 1 point; a
    # random draw equal to the original (1 in 995) counts as kept
    assert abs(share[0] - 0.8) < 0.01
    assert abs(share[1] - 0.1) < 0.01
    assert abs(share[2] - 0.1) < 0.01


@pytest.mark.parametrize('post_norm', [True, False])
def test_padding_does_not_change_the_cls_output(post_norm):
    torch.manual_seed(0)
    enc = tiny_bert(post_norm=post_norm).backbone.eval()
    ids = torch.tensor([[2, 17, 33, 9, 41, 3]])
    short = enc(ids, torch.ones_like(ids))
    padded = torch.cat([ids, torch.zeros(1, 20, dtype=torch.long)], 1)
    mask = (padded != 0).long()
    long = enc(padded, mask)
    assert torch.allclose(long[:, :6], short, atol=1e-5)
    unmasked = enc(padded, torch.ones_like(padded))  # padding attended
    assert not torch.allclose(unmasked[:, 0], short[:, 0], atol=1e-3)


def test_loss_is_the_masked_positions_only():
    torch.manual_seed(0)
    model = tiny_bert().train()
    for m in model.modules():  # dropout off, so two forwards agree
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    ids = torch.randint(5, 120, (4, 20))
    ids[:, 0], ids[:, -1] = 2, 3
    data = dict(attention_mask=torch.ones_like(ids))
    torch.manual_seed(7)
    loss = model.loss(ids, data)['loss_mlm']
    torch.manual_seed(7)
    corrupted, mask = model.random_masking(ids, data['attention_mask'])
    hidden = model.backbone(corrupted, data['attention_mask'])
    logits = model.forward_head(hidden)
    assert torch.allclose(loss, F.cross_entropy(logits[mask], ids[mask]))
    everywhere = F.cross_entropy(logits.flatten(0, 1), ids.flatten())
    assert not torch.allclose(loss, everywhere)


def test_mlm_loss_falls_on_real_text(tmp_path):
    tok = train_wordpiece(TEXT, 120, min_frequency=1)
    rows = [tok.encode(t, max_length=24) for t in TEXT[:6]]
    ids = torch.tensor([r['input_ids'] for r in rows])
    data = dict(attention_mask=torch.tensor([r['attention_mask']
                                             for r in rows]))
    torch.manual_seed(0)
    model = tiny_bert(vocab_size=tok.vocab_size, mask_ratio=0.3)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = model.loss(ids, data)['loss_mlm']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.5, losses


def test_hf_bert_layout_imports_with_identical_outputs(tmp_path):
    transformers = pytest.importorskip('transformers')
    torch.manual_seed(0)
    cfg = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=40, hidden_act='gelu',
        layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, attn_implementation='eager')
    hf = transformers.BertForMaskedLM(cfg).eval()
    ours = tiny_bert(vocab_size=99, num_heads=4).eval()
    load_model_checkpoint(ours, hf.state_dict(), 'hf-mlm')
    ids = torch.randint(5, 99, (3, 12))
    attention = torch.ones_like(ids)
    attention[1, 8:] = 0
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    with torch.no_grad():
        out = hf(input_ids=ids, attention_mask=attention,
                 token_type_ids=types, output_hidden_states=True)
        hidden = ours.backbone(ids, attention, types)
        logits = ours.forward_head(hidden)
    real = attention.bool()
    assert torch.allclose(hidden[real], out.hidden_states[-1][real],
                          atol=1e-5)
    assert torch.allclose(logits[real], out.logits[real], atol=1e-4)

    # a bare BertModel file (bert.* keys, pooler) into a classifier's
    # encoder through the Pretrained initializer
    path = tmp_path / 'hf_bert.pth'
    torch.save({'state_dict': {f'bert.{k}': v for k, v in
                               hf.bert.state_dict().items()}}, path)
    clf = MODELS.build(dict(
        type='TextClassifier', head=dict(type='LinearClsHead',
                                         num_classes=2),
        backbone=dict(type='BertEncoder', vocab_size=99, embed_dim=32,
                      depth=2, num_heads=4, max_position_embeddings=40)))
    PretrainedInit(str(path))(clf)
    clf.eval()
    with torch.no_grad():
        got = clf.backbone(ids, attention, types)
    assert torch.allclose(got[real], hidden[real], atol=1e-5)


def test_layer_decay_ids_cover_the_embeddings():
    from mmengine.optim import build_optim_wrapper
    clf = MODELS.build(dict(
        type='TextClassifier', head=dict(type='LinearClsHead',
                                         num_classes=2),
        backbone=dict(type='BertEncoder', vocab_size=50, embed_dim=16,
                      depth=3, num_heads=2, max_position_embeddings=8)))
    wrapper = build_optim_wrapper(clf, dict(
        type='OptimWrapper', constructor='LayerDecayOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.01),
        paramwise_cfg=dict(layer_decay_rate=0.5)))
    lr = {n: g['lr'] for g in wrapper.optimizer.param_groups
          for n in g['param_names']}
    for name in ('word_embed.weight', 'pos_embed', 'type_embed.weight',
                 'embed_norm.weight'):
        assert lr['backbone.' + name] == 0.5 ** 4
    assert lr['backbone.blocks.0.attn.qkv.weight'] == 0.5 ** 3
    assert lr['backbone.blocks.2.mlp.fc2.weight'] == 0.5
    assert lr['head.fc.weight'] == lr['pooler.0.weight'] == 1.0


def test_bad_vocabulary_and_length_are_named(tmp_path):
    torch.manual_seed(0)
    mlm = tiny_bert(vocab_size=120)
    path = tmp_path / 'mlm.pth'
    torch.save({'state_dict': mlm.state_dict(),
                'meta': {'vocab': dict(file='vocab.json', size=120,
                                       sha256='ab' * 32)}}, path)
    clf = MODELS.build(dict(
        type='TextClassifier', head=dict(type='LinearClsHead',
                                         num_classes=2),
        backbone=dict(type='BertEncoder', vocab_size=90, embed_dim=32,
                      depth=2, num_heads=2, max_position_embeddings=40)))
    with pytest.raises(CheckpointMismatchError,
                       match=r"mlm\.pth: word embedding \(word_embed.weight"
                       r"\) has 120 rows .* 90 tokens.*'vocab.json'"):
        PretrainedInit(str(path))(clf)

    vocab = tmp_path / 'vocab.json'
    train_wordpiece(TEXT, 80, min_frequency=1).save(str(vocab))
    with pytest.raises(ValueError, match=r'vocab\.json has \d+ tokens but '
                       r'model\.backbone\.vocab_size is 120'):
        tiny_bert(vocab_size=120, vocab_file=str(vocab))

    with pytest.raises(ValueError, match='41 tokens is longer than the '
                       r'position table \(max_position_embeddings=40\)'):
        mlm.backbone(torch.ones(1, 41, dtype=torch.long))


# ------------------------------------------------- real runs (train.py)
TINY_SST2 = '''
_base_ = [{base!r}]
data_root = {root!r}
vocab = {vocab!r}
model = dict(vocab_file=vocab, backbone=dict(
    vocab_size={size}, max_position_embeddings=32, embed_dim=32, depth=2,
    num_heads=2, init_cfg=dict(checkpoint={ckpt!r})))
pipeline = [dict(type='TokenizeText', vocab_file=vocab, max_length=32),
            dict(type='PackTextInputs')]
train_dataloader = dict(batch_size=16, dataset=dict(
    data_source=dict(data_root=data_root, max_samples=64),
    pipeline=pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(
    data_source=dict(data_root=data_root), pipeline=pipeline))
test_dataloader = val_dataloader
warmup_iters = 1
train_cfg = dict(max_iters=4, val_interval=4)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
log_processor = dict(window_size=1)
'''


def _losses(work_dir):
    [log] = [p for p in work_dir.rglob('scalars.json')]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [r['loss_mlm'] for r in rows if 'loss_mlm' in r], rows


@pytest.mark.slow(seconds=110)
@need_shared
def test_train_tool_mlm_then_sst2_finetune(tmp_path):
    cfg, vocab, size = mlm_config(tmp_path, iters=30)
    run_train(cfg, tmp_path / 'mlm', timeout=600)
    losses, rows = _losses(tmp_path / 'mlm')
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3, losses
    assert any('mlm/accuracy' in r and 'mlm/perplexity' in r for r in rows)
    ckpt = tmp_path / 'mlm' / 'iter_30.pth'
    copy = tmp_path / 'mlm' / 'vocab.json'
    assert copy.read_bytes() == vocab.read_bytes()
    meta = torch.load(ckpt, weights_only=True)['meta']
    assert meta['vocab']['file'] == 'vocab.json' and \
        meta['vocab']['size'] == size

    ft = tmp_path / 'sst2.py'
    ft.write_text(TINY_SST2.format(
        base=osp.join(REPO, 'configs/classification/bert/'
                      'bert-mini_1xb32-10e_sst2-1k.py'),
        root=SHARED, vocab=str(copy), size=size, ckpt=str(ckpt)))
    proc = run_train(ft, tmp_path / 'sst2', timeout=600)
    log = proc.stdout + proc.stderr
    assert 'loaded the easymae BERT encoder into BertEncoder' in log
    assert 'dropped head.bias' in log
    rows = [json.loads(line) for line in next(
        (tmp_path / 'sst2').rglob('scalars.json')).read_text().splitlines()]
    assert any('accuracy/top1' in r for r in rows)
