"""BERT checkpoints: HF ``transformers`` layout -> ours, and a pretrained
text encoder loaded strictly.

HF keeps BERT as ``bert.embeddings.*``, ``bert.encoder.layer.N.*`` with
separate query/key/value projections, ``bert.pooler.dense`` and, for the
pretraining heads, ``cls.predictions.*`` / ``cls.seq_relationship``.
Ours (``BertEncoder``, ``BERT``):

==============================================  ============================
HF                                              easymae
==============================================  ============================
embeddings.word_embeddings.weight               backbone.word_embed.weight
embeddings.position_embeddings.weight (P, D)    backbone.pos_embed (1, P, D)
embeddings.token_type_embeddings.weight         backbone.type_embed.weight
embeddings.LayerNorm                            backbone.embed_norm
layer.N.attention.self.{query,key,value}        backbone.blocks.N.attn.qkv
layer.N.attention.output.dense                  backbone.blocks.N.attn.proj
layer.N.attention.output.LayerNorm              backbone.blocks.N.norm1
layer.N.intermediate.dense                      backbone.blocks.N.mlp.fc1
layer.N.output.dense                            backbone.blocks.N.mlp.fc2
layer.N.output.LayerNorm                        backbone.blocks.N.norm2
pooler.dense                                    nsp_head.pooler
cls.seq_relationship                            nsp_head.fc
cls.predictions.transform.dense / .LayerNorm    head.dense / head.norm
cls.predictions.bias                            head.bias
cls.predictions.decoder                         (tied to the word embedding)
==============================================  ============================

(TF-converted files name LayerNorm parameters ``gamma``/``beta``: read as
``weight``/``bias``.)
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    CheckpointMismatchError,
    describe_checkpoint,
    load_state_dict_strict,
    state_dict_of,
    summarise,
)
from .resolve import resolve_checkpoint
from .vit_bert_convert import is_vit_bert, vit_bert_text_state

_HF_BERT = re.compile(r'^(bert\.)?(embeddings\.word_embeddings|'
                      r'encoder\.layer\.\d+)\.')
_LAYER = {
    'attention.output.dense': 'attn.proj',
    'attention.output.LayerNorm': 'norm1',
    'intermediate.dense': 'mlp.fc1',
    'output.dense': 'mlp.fc2',
    'output.LayerNorm': 'norm2',
}
_TOP = {
    'embeddings.word_embeddings': 'backbone.word_embed',
    'embeddings.token_type_embeddings': 'backbone.type_embed',
    'embeddings.LayerNorm': 'backbone.embed_norm',
    'pooler.dense': 'nsp_head.pooler',
    'cls.seq_relationship': 'nsp_head.fc',
    'cls.predictions.transform.dense': 'head.dense',
    'cls.predictions.transform.LayerNorm': 'head.norm',
}


def is_hf_bert(keys) -> bool:
    """Whether a state dict's keys are HF ``transformers`` BERT's."""
    return any(_HF_BERT.match(k) for k in keys)


def _param(name: str) -> str:
    return {'gamma': 'weight', 'beta': 'bias'}.get(name, name)


def hf_bert_to_easymae(state: Dict[str, torch.Tensor],
                       source: str = 'checkpoint'
                       ) -> Tuple['OrderedDict[str, torch.Tensor]',
                                  Dict[str, str]]:
    """HF BERT tensors under our names (``backbone.*``, ``head.*``,
    ``nsp_head.*``), and the keys dropped with the reason."""
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    dropped: Dict[str, str] = {}
    qkv: Dict[Tuple[int, str], Dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        name = key[len('bert.'):] if key.startswith('bert.') else key
        stem, _, param = name.rpartition('.')
        param = _param(param)
        m = re.match(r'^encoder\.layer\.(\d+)\.(.+)$', stem)
        if m:
            i, part = int(m.group(1)), m.group(2)
            sub = re.match(r'^attention\.self\.(query|key|value)$', part)
            if sub:
                qkv.setdefault((i, param), {})[sub.group(1)] = value
            elif part in _LAYER:
                out[f'backbone.blocks.{i}.{_LAYER[part]}.{param}'] = value
            else:
                out[key] = value  # unknown: the strict loader names it
            continue
        if stem == 'embeddings.position_embeddings':
            out['backbone.pos_embed'] = value.unsqueeze(0)
        elif stem in _TOP:
            out[f'{_TOP[stem]}.{param}'] = value
        elif name == 'cls.predictions.bias':
            out['head.bias'] = value
        elif stem == 'cls.predictions.decoder':
            dropped[key] = 'tied to the word embedding'
        elif name.startswith('embeddings.position_ids') or \
                name.startswith('embeddings.token_type_ids'):
            dropped[key] = 'a buffer of index constants'
        else:
            out[key] = value
    for (i, param), parts in sorted(qkv.items()):
        if set(parts) != {'query', 'key', 'value'}:
            raise CheckpointMismatchError(
                f'{source}: layer {i} has attention.self '
                f'{sorted(parts)} {param}s; query, key and value are needed')
        out[f'backbone.blocks.{i}.attn.qkv.{param}'] = torch.cat(
            [parts['query'], parts['key'], parts['value']], dim=0)
    return out, dropped


def _vocab_hint(checkpoint, ours: int, theirs: int, source: str) -> str:
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    vocab = meta.get('vocab') if isinstance(meta, dict) else None
    made_with = (f" (it was trained with {vocab.get('file')!r}, "
                 f"{vocab.get('size')} tokens, sha256 "
                 f"{str(vocab.get('sha256'))[:12]}..., saved beside it)"
                 if isinstance(vocab, dict) else '')
    return (f'checkpoint {source}: word embedding (word_embed.weight) has '
            f'{theirs} rows but the vocabulary file gives the model {ours} '
            f'tokens; use the vocabulary the checkpoint was trained with'
            f'{made_with}')


def load_text_encoder_state(module: nn.Module, checkpoint, source: str,
                            logger='current') -> None:
    """A BERT encoder (ours, or HF layout) from a loaded checkpoint into
    ``module`` (a ``BertEncoder``), strictly: every encoder tensor must be
    there; the pretraining heads, a classifier head and a pooler are
    dropped with a log line."""
    state, _ = state_dict_of(checkpoint, source)
    dropped: Dict[str, str] = {}
    layout = 'easymae'
    if is_hf_bert(state):
        state, dropped = hf_bert_to_easymae(state, source)
        layout = 'hf-bert'
    elif is_vit_bert(state):  # a joint image + text student: its text path
        state, dropped = vit_bert_text_state(state)
        layout = 'vit-bert'
    encoder = OrderedDict()
    for key, value in state.items():
        if key.startswith('backbone.'):
            encoder[key[len('backbone.'):]] = value
        elif key.startswith(('head.', 'nsp_head.', 'pooler.')):
            dropped[key] = 'a pretraining or classifier head'
        elif key.startswith('data_preprocessor.'):
            dropped[key] = 'data preprocessor'
        else:
            encoder[key] = value  # a bare encoder (or a stray key)
    ours = module.state_dict()
    words = encoder.get('word_embed.weight')
    if words is not None and 'word_embed.weight' in ours and \
            words.shape[0] != ours['word_embed.weight'].shape[0]:
        raise CheckpointMismatchError(_vocab_hint(
            checkpoint, ours['word_embed.weight'].shape[0], words.shape[0],
            source))
    notes = []
    pos = encoder.get('pos_embed')
    if pos is not None and 'pos_embed' in ours and pos.dim() == 3 and \
            pos.shape[1] > ours['pos_embed'].shape[1] and \
            pos.shape[2] == ours['pos_embed'].shape[2]:
        # positions beyond the model's table are never used: keep the first
        encoder['pos_embed'] = pos[:, :ours['pos_embed'].shape[1]]
        notes.append(f'pos_embed cut from {pos.shape[1]} to '
                     f'{ours["pos_embed"].shape[1]} positions')
    report = load_state_dict_strict(
        module, encoder, source, kind=describe_checkpoint(checkpoint, layout),
        log=False)
    text = (f'loaded the {layout} BERT encoder into {type(module).__name__}: '
            f'{report.loaded} tensors from {source}')
    if dropped:
        text += f'; dropped {summarise(dropped)}'
    for note in notes:
        text += f'; {note}'
    print_log(text, logger=logger)


def load_pretrained_text_encoder(module: nn.Module, checkpoint: str,
                                 map_location='cpu',
                                 logger='current') -> None:
    """``checkpoint`` (path, URL or zoo name) into a ``BertEncoder``."""
    path = resolve_checkpoint(checkpoint)
    load_text_encoder_state(module, load_file(path, map_location), path,
                            logger)


def convert_hf_bert_checkpoint(checkpoint, source: str = 'checkpoint'
                               ) -> Optional[dict]:
    """A loaded HF BERT checkpoint as an easymae checkpoint (``state_dict``
    with ``backbone.*`` / ``head.*``), or None when it is not one."""
    state, _ = state_dict_of(checkpoint, source)
    if not is_hf_bert(state):
        return None
    converted, _ = hf_bert_to_easymae(state, source)
    return {'state_dict': converted,
            'meta': {'converted_by': 'easymae.hub', 'layout': 'hf-bert'}}
