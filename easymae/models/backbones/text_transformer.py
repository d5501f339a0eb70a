"""CLIP's text tower: a causal transformer pooled at the end-of-text token.

Token + learned position embeddings, timm ``Block``s run with
``is_causal=True`` (each token attends to itself and earlier tokens only,
through fused ``scaled_dot_product_attention``), a final LayerNorm, then the
feature at ``<end_of_text>`` goes through a bias-free projection into the
joint image-text space. ``<end_of_text>`` has the largest id of CLIP's
vocabulary, so ``argmax`` over the ids finds it, as in CLIP.

FLIP's text-masking ablation is ``forward(text, mask_ratio=...)``: a random
share of tokens is dropped before the blocks, padding first and the
start/end tokens never, and the kept tokens stay in their order.
"""
from functools import partial
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from timm.models.vision_transformer import Block

from easymae.registry import MODELS
from ..utils.attention import check_fused_attn, choose_attention_kernel


@MODELS.register_module()
class TextTransformer(BaseModule):
    """Args:
        vocab_size: CLIP BPE's 49,408 by default.
        context_length: tokens per caption (77 in CLIP, 32 in FLIP).
        width, depth, num_heads, mlp_ratio: the transformer.
        embed_dim: output size of the projection (None: no projection,
            features of ``width``).
        sot_token_id, eot_token_id: CLIP's start/end-of-text ids.
        fused_attn: True (SDPA), False or 'auto', as the ViT's.
    """

    def __init__(self, vocab_size: int = 49408, context_length: int = 77,
                 width: int = 512, depth: int = 12, num_heads: int = 8,
                 mlp_ratio: float = 4.0, embed_dim: Optional[int] = 512,
                 sot_token_id: int = 49406, eot_token_id: int = 49407,
                 fused_attn='auto', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_fused_attn('TextTransformer', fused_attn)
        self.fused_attn = fused_attn
        if width % num_heads:
            raise ValueError(f'TextTransformer: width {width} is not '
                             f'divisible by num_heads {num_heads}')
        self.vocab_size, self.context_length = vocab_size, context_length
        self.width, self.depth = width, depth
        self.sot_token_id, self.eot_token_id = sot_token_id, eot_token_id
        self.token_embed = nn.Embedding(vocab_size, width)
        self.pos_embed = nn.Parameter(torch.zeros(1, context_length, width))
        norm_layer = partial(nn.LayerNorm, eps=1e-5)
        self.blocks = nn.ModuleList([
            Block(width, num_heads, mlp_ratio, qkv_bias=True,
                  norm_layer=norm_layer) for _ in range(depth)
        ])
        self.norm = norm_layer(width)
        self.embed_dim = embed_dim or width
        self.proj = (nn.Linear(width, embed_dim, bias=False)
                     if embed_dim else nn.Identity())
        self._init_params()

    def _init_params(self):
        # CLIP's scales: token embeddings 0.02, positions 0.01
        nn.init.normal_(self.token_embed.weight, std=0.02)
        nn.init.normal_(self.pos_embed, std=0.01)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        if isinstance(self.proj, nn.Linear):
            nn.init.normal_(self.proj.weight, std=self.width ** -0.5)

    def init_weights(self):
        if self.init_cfg:
            super().init_weights()

    def _check(self, text: torch.Tensor) -> None:
        if text.dim() != 2 or text.shape[1] != self.context_length:
            raise ValueError(
                f'TextTransformer: expected token ids of shape (N, '
                f'{self.context_length}), got {tuple(text.shape)}; the '
                'Tokenize context_length must equal the model\'s')

    def embed(self, text: torch.Tensor) -> torch.Tensor:
        """(N, T) ids -> (N, T, width) token + position embeddings."""
        self._check(text)
        return self.token_embed(text) + self.pos_embed

    def mask_tokens(self, x: torch.Tensor, text: torch.Tensor,
                    mask_ratio: float,
                    noise: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Keep ``round(T * (1 - mask_ratio))`` tokens per caption.

        Padding goes first (the paper's "prioritised" text masking), then
        random words; start and end tokens always stay. Returns the kept
        embeddings and their ids, in the original order.
        """
        N, T, D = x.shape
        len_keep = max(1, round(T * (1 - mask_ratio)))
        if noise is None:
            noise = torch.rand(N, T, device=x.device)
        special = (text == self.sot_token_id) | (text == self.eot_token_id)
        noise = torch.where(special, torch.full_like(noise, -1.0), noise)
        noise = torch.where(text == 0, noise + 2.0, noise)  # pad: drop first
        ids_keep = torch.argsort(noise, dim=1)[:, :len_keep]
        ids_keep = torch.sort(ids_keep, dim=1).values  # causal order
        x = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
        return x, torch.gather(text, 1, ids_keep)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        choose_attention_kernel(self.blocks, x, self.fused_attn)
        for blk in self.blocks:
            x = blk(x, is_causal=True)
        return self.norm(x)

    def pool(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Feature at each caption's end-of-text token, projected."""
        eot = text.argmax(dim=-1)
        return self.proj(x[torch.arange(x.shape[0], device=x.device), eot])

    def forward(self, text: torch.Tensor, mask_ratio: float = 0.0,
                noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.embed(text)
        if mask_ratio > 0:
            x, text = self.mask_tokens(x, text, mask_ratio, noise)
        return self.pool(self.encode(x), text)

    def no_weight_decay(self):
        return ('pos_embed', 'token_embed')
