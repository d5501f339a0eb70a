"""What the text models share about their inputs: the attention mask and
segment ids a batch carries (or their defaults), and the vocabulary a
config names (its size and special token ids)."""
import os.path as osp
from typing import Optional, Sequence

import torch

from easymae.text.wordpiece import get_wordpiece

# [PAD] [UNK] [CLS] [SEP] [MASK] of a vocabulary built by build_vocab.py
DEFAULT_SPECIAL_IDS = (0, 1, 2, 3, 4)
DEFAULT_MASK_ID = 4


def text_masks(inputs: torch.Tensor, data_samples: Optional[dict]):
    """Attention mask (all ones when absent) and segment ids."""
    data_samples = data_samples or {}
    attention_mask = data_samples.get('attention_mask')
    if attention_mask is None:
        attention_mask = torch.ones_like(inputs)
    return attention_mask, data_samples.get('token_type_ids')


def resolve_vocab(backbone, vocab_file: Optional[str], owner: str,
                  mask_token_id: Optional[int] = None,
                  special_token_ids: Optional[Sequence[int]] = None):
    """The backbone config with its vocabulary size, and the special ids.

    With a ``vocab_file`` that exists both come from the file, and a
    backbone ``vocab_size`` that differs is an error naming the file and
    the key. A file not built yet is fine when ``backbone.vocab_size`` is
    set (a config can be checked before ``tools/build_vocab.py`` runs; the
    pipeline and ``TextVocabHook`` need the file later).
    """
    given = backbone.get('vocab_size') if isinstance(backbone, dict) \
        else backbone.vocab_size
    if vocab_file is not None and (given is None or osp.isfile(vocab_file)):
        tok = get_wordpiece(vocab_file)
        if isinstance(backbone, dict):
            backbone = dict(backbone, vocab_size=given or tok.vocab_size)
        if given not in (None, tok.vocab_size):
            raise ValueError(
                f'{owner}: the vocabulary {vocab_file} has '
                f'{tok.vocab_size} tokens but model.backbone.vocab_size is '
                f'{given}; set it to {tok.vocab_size} (or leave it unset)')
        return backbone, dict(mask=tok.mask_id, all=tuple(tok.special_ids))
    return backbone, dict(
        mask=DEFAULT_MASK_ID if mask_token_id is None else mask_token_id,
        all=tuple(DEFAULT_SPECIAL_IDS if special_token_ids is None
                  else special_token_ids))
