"""BERT's input embeddings on their own: a text tokenizer for a shared
encoder.

    x = word_embed[ids] + pos_embed[:T] + type_embed[segment ids]

Names are ``BertEncoder``'s (``word_embed``, ``pos_embed``, ``type_embed``),
so these embeddings plus a shared stack of ViT blocks convert by prefix
into a pre-norm ``BertEncoder`` (whose embeddings have no LayerNorm).
"""
from typing import Optional

import torch
import torch.nn as nn

from easymae.registry import MODELS


@MODELS.register_module()
class TextEmbedding(nn.Module):
    """Args:
        vocab_size: rows of the word embedding (the algorithm fills it in
            from its ``vocab_file``).
        embed_dim: the shared encoder's width.
        max_position_embeddings: the longest sequence.
        type_vocab_size: segment ids.
        dropout: after the sum.
        init_std: normal init, 0.02 as BERT.
    """

    def __init__(self, vocab_size: int, embed_dim: int,
                 max_position_embeddings: int = 512,
                 type_vocab_size: int = 2, dropout: float = 0.0,
                 init_std: float = 0.02):
        super().__init__()
        if vocab_size < 1 or max_position_embeddings < 1:
            raise ValueError(f'TextEmbedding: vocab_size ({vocab_size}) and '
                             'max_position_embeddings '
                             f'({max_position_embeddings}) must be >= 1')
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.max_position_embeddings = max_position_embeddings
        self.word_embed = nn.Embedding(vocab_size, embed_dim)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, max_position_embeddings, embed_dim))
        self.type_embed = nn.Embedding(type_vocab_size, embed_dim)
        self.drop = nn.Dropout(dropout)
        for p in (self.word_embed.weight, self.pos_embed,
                  self.type_embed.weight):
            nn.init.normal_(p, std=init_std)

    def forward(self, input_ids: torch.Tensor,
                token_type_ids: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(N, T) ids -> (N, T, D)."""
        T = input_ids.shape[1]
        if T > self.max_position_embeddings:
            raise ValueError(
                f'TextEmbedding: a sequence of {T} tokens is longer than the '
                f'position table (max_position_embeddings='
                f'{self.max_position_embeddings}); lower TokenizeText\'s '
                'max_length or raise model.text_embed.'
                'max_position_embeddings')
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embed(input_ids) + self.pos_embed[:, :T] + \
            self.type_embed(token_type_ids)
        return self.drop(x)
