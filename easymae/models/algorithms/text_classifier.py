"""Sequence classification on a (pretrained) BERT encoder, as the paper's
GLUE finetuning:

    hidden = backbone(ids, attention mask, segment ids)
    feat   = hidden[:, 0]                  # [CLS]  (or the mean of real
                                           #  tokens, padding left out)
    feat   = tanh(pooler(feat))            # optional: BERT's pooler
    logits = head(dropout(feat))

The encoder is loaded from an MLM checkpoint by
``backbone.init_cfg=dict(type='Pretrained', checkpoint=...)`` (the MLM
head is dropped; nothing of the encoder may be missing).
``predict`` returns what the ``Accuracy`` metric reads.
"""
from typing import List, Optional

import torch
import torch.nn as nn

from easymae.registry import MODELS
from ..utils.text_inputs import resolve_vocab, text_masks
from .base import BaseAlgorithm, build_part, classification_results

POOLS = ('cls', 'mean')


@MODELS.register_module()
class TextClassifier(BaseAlgorithm):
    """Args:
        backbone: a ``BertEncoder`` config.
        head: a ``LinearClsHead`` config; ``in_channels`` defaults to the
            encoder's width.
        vocab_file: the tokenizer file (sets ``backbone.vocab_size``, and
            a different size is an error naming the file).
        pool: 'cls' (the [CLS] token, BERT) or 'mean' (real tokens only).
        pooler: BERT's dense + tanh on the pooled feature before the head
            (a 2-layer head); False: the head alone (linear).
        dropout: before the head (0.1 in BERT).
    """

    def __init__(self, backbone: dict, head: dict,
                 vocab_file: Optional[str] = None, pool: str = 'cls',
                 pooler: bool = True, dropout: float = 0.1,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if pool not in POOLS:
            raise ValueError(f'TextClassifier: pool must be one of {POOLS}, '
                             f'got {pool!r}')
        backbone, _ = resolve_vocab(backbone, vocab_file, 'TextClassifier')
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        width = self.backbone.embed_dim
        if isinstance(head, dict):
            head = dict(head)
            head.setdefault('in_channels', width)
            # BERT's init for a new layer (timm-style heads start at ~0)
            head.setdefault('init_std', 0.02)
        self.head = build_part(head)
        self.pool = pool
        self.pooler = nn.Sequential(nn.Linear(width, width), nn.Tanh()) \
            if pooler else nn.Identity()
        if pooler:
            nn.init.normal_(self.pooler[0].weight, std=0.02)
            nn.init.zeros_(self.pooler[0].bias)
        self.dropout = nn.Dropout(dropout)
        self.vocab_file = vocab_file

    def extract_feat(self, inputs: torch.Tensor,
                     data_samples: Optional[dict] = None) -> torch.Tensor:
        attention_mask, token_type_ids = text_masks(inputs, data_samples)
        hidden = self.backbone(inputs, attention_mask, token_type_ids)
        if self.pool == 'cls':
            feat = hidden[:, 0]
        else:
            weight = attention_mask.unsqueeze(-1).to(hidden.dtype)
            feat = (hidden * weight).sum(1) / weight.sum(1).clamp(min=1)
        return self.dropout(self.pooler(feat))

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> dict:
        if not data_samples or 'gt_label' not in data_samples:
            raise ValueError('TextClassifier.loss needs gt_label in '
                             'data_samples; check that PackTextInputs packs '
                             'it')
        return dict(loss=self.head.loss(
            self.extract_feat(inputs, data_samples), data_samples))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[dict] = None) -> List[dict]:
        return classification_results(
            self.head(self.extract_feat(inputs, data_samples)),
            (data_samples or {}).get('gt_label'))

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.extract_feat(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)
