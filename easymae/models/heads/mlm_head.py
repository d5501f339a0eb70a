"""BERT's pretraining heads: masked-token prediction and next sentence.

The masked-LM head is BERT's ``cls/predictions``: a dense layer with GELU
and LayerNorm, then a decoder whose weight is the *word embedding* matrix
(tied: one table for reading and writing tokens) plus an output bias per
token. The head owns no decoder weight of its own; the algorithm hands it
the embedding table.
"""
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS


@MODELS.register_module()
class MaskedLMHead(nn.Module):
    """Args:
        embed_dim: the encoder's width.
        vocab_size: tokens (the bias's length).
        layer_norm_eps: 1e-12 as BERT.
        init_std: normal init of the dense layer (0.02).
    """

    def __init__(self, embed_dim: int, vocab_size: int,
                 layer_norm_eps: float = 1e-12, init_std: float = 0.02):
        super().__init__()
        self.dense = nn.Linear(embed_dim, embed_dim)
        self.act = nn.GELU()
        self.norm = partial(nn.LayerNorm, eps=layer_norm_eps)(embed_dim)
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.normal_(self.dense.weight, std=init_std)
        nn.init.zeros_(self.dense.bias)

    def forward(self, x: torch.Tensor,
                embed_weight: torch.Tensor) -> torch.Tensor:
        """(..., D) hidden states -> (..., V) logits over the vocabulary,
        decoded with the tied (V, D) word embedding."""
        x = self.norm(self.act(self.dense(x)))
        return F.linear(x, embed_weight, self.bias)


@MODELS.register_module()
class NextSentenceHead(nn.Module):
    """BERT's pooler (dense + tanh on [CLS]) and a 2-way classifier:
    is segment B the text that followed A (1) or a random one (0)."""

    def __init__(self, embed_dim: int, init_std: float = 0.02):
        super().__init__()
        self.pooler = nn.Linear(embed_dim, embed_dim)
        self.fc = nn.Linear(embed_dim, 2)
        for layer in (self.pooler, self.fc):
            nn.init.normal_(layer.weight, std=init_std)
            nn.init.zeros_(layer.bias)

    def forward(self, cls_feat: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.tanh(self.pooler(cls_feat)))
