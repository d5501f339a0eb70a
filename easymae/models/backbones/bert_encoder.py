"""BERT's encoder (Devlin et al., 2019) on timm blocks.

    x = word_embed[ids] + pos_embed[:T] + type_embed[segment ids]
    x = dropout(embed_norm(x))
    x = blocks(x, attention mask)     # padding is never attended to
    x = norm(x)                       # pre-norm only

Parameter names are the ViT's (``blocks.N.attn.qkv``, ``blocks.N.mlp.fc1``,
...), so layer-wise lr decay, the analysis tools' block walks and the
weight converters treat both encoders alike. ``post_norm=True`` is the
paper's block (LayerNorm after each residual sum, a LayerNorm on the
embeddings, no final norm); ``post_norm=False`` the pre-norm block of
later work (timm's own ``Block``: LayerNorm before attention and MLP, no
embedding norm, a final norm), which trains more stably when deep.
"""
from functools import partial
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from timm.models.vision_transformer import Block

from easymae.registry import MODELS, SCOPE
from ..utils.attention import check_fused_attn, choose_attention_kernel
from ..utils.drop_path import drop_path_rates


class BertBlock(Block):
    """timm's ``Block`` with BERT's post-norm order as a switch.

    post-norm:  x = norm1(x + attn(x));  x = norm2(x + mlp(x))
    pre-norm:   x = x + attn(norm1(x));  x = x + mlp(norm2(x))  (timm's)
    """

    def __init__(self, *args, post_norm: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.post_norm = post_norm
        # BERT drops out after the MLP's output projection, not after GELU
        self.mlp.drop1 = nn.Identity()

    def forward(self, x: torch.Tensor,
                attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if not self.post_norm:
            return super().forward(x, attn_mask=attn_mask)
        x = self.norm1(x + self.drop_path1(
            self.ls1(self.attn(x, attn_mask=attn_mask))))
        return self.norm2(x + self.drop_path2(self.ls2(self.mlp(x))))


@MODELS.register_module()
class BertEncoder(BaseModule):
    """Args:
        vocab_size: rows of the word embedding (the vocabulary's size; the
            ``BERT`` / ``TextClassifier`` algorithms fill it in from their
            ``vocab_file``).
        max_position_embeddings: the longest sequence (512 in BERT).
        type_vocab_size: segment ids (2: sentence A and B).
        embed_dim, depth, num_heads, mlp_ratio: the transformer
            (BERT-base 768, 12, 12, 4).
        post_norm: the paper's post-norm blocks (True) or pre-norm.
        layer_norm_eps: 1e-12 as BERT.
        hidden_dropout, attn_dropout: 0.1 each in BERT.
        drop_path_rate: stochastic depth (0 in BERT).
        init_std: normal init of weights and embeddings (0.02 in BERT).
        fused_attn: True (SDPA), False or 'auto', as the ViT's.
    """

    def __init__(self, vocab_size: int = 30522,
                 max_position_embeddings: int = 512,
                 type_vocab_size: int = 2, embed_dim: int = 768,
                 depth: int = 12, num_heads: int = 12,
                 mlp_ratio: float = 4.0, post_norm: bool = True,
                 layer_norm_eps: float = 1e-12, hidden_dropout: float = 0.1,
                 attn_dropout: float = 0.1, drop_path_rate: float = 0.0,
                 init_std: float = 0.02, fused_attn='auto', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_fused_attn('BertEncoder', fused_attn)
        if embed_dim % num_heads:
            raise ValueError(f'BertEncoder: embed_dim {embed_dim} is not '
                             f'divisible by num_heads {num_heads}')
        if vocab_size < 1 or max_position_embeddings < 1:
            raise ValueError(f'BertEncoder: vocab_size ({vocab_size}) and '
                             'max_position_embeddings '
                             f'({max_position_embeddings}) must be >= 1')
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.embed_dim, self.depth = embed_dim, depth
        self.post_norm = post_norm
        self.fused_attn = fused_attn
        self.init_std = init_std
        norm_layer = partial(nn.LayerNorm, eps=layer_norm_eps)
        self.word_embed = nn.Embedding(vocab_size, embed_dim)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, max_position_embeddings, embed_dim))
        self.type_embed = nn.Embedding(type_vocab_size, embed_dim)
        self.embed_norm = norm_layer(embed_dim) if post_norm \
            else nn.Identity()
        self.embed_drop = nn.Dropout(hidden_dropout)
        dpr = drop_path_rates(drop_path_rate, depth)
        self.blocks = nn.ModuleList([
            BertBlock(embed_dim, num_heads, mlp_ratio, qkv_bias=True,
                      proj_drop=hidden_dropout, attn_drop=attn_dropout,
                      drop_path=dpr[i], norm_layer=norm_layer,
                      act_layer=nn.GELU, post_norm=post_norm)
            for i in range(depth)])
        self.norm = nn.Identity() if post_norm else norm_layer(embed_dim)
        self._init_params()

    def _init_params(self):
        # BERT: N(0, 0.02) weights and embeddings, zero biases, unit norms
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=self.init_std)
                if getattr(m, 'bias', None) is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.pos_embed, std=self.init_std)

    def init_weights(self):
        # as the ViT: only an init_cfg (e.g. `Pretrained`) has work left,
        # built in the easymae scope so hub's strict initializer answers
        if self.init_cfg:
            with DefaultScope.overwrite_default_scope(SCOPE):
                super().init_weights()

    # ------------------------------------------------------------ steps
    def embed(self, input_ids: torch.Tensor,
              token_type_ids: Optional[torch.Tensor] = None
              ) -> torch.Tensor:
        """(N, T) ids -> (N, T, D) word + position + segment embeddings."""
        if input_ids.dim() != 2:
            raise ValueError(f'BertEncoder: expected token ids of shape '
                             f'(N, T), got {tuple(input_ids.shape)}')
        T = input_ids.shape[1]
        if T > self.max_position_embeddings:
            raise ValueError(
                f'BertEncoder: a sequence of {T} tokens is longer than the '
                f'position table (max_position_embeddings='
                f'{self.max_position_embeddings}); lower TokenizeText\'s '
                'max_length or raise model.backbone.max_position_embeddings')
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embed(input_ids) + self.pos_embed[:, :T] + \
            self.type_embed(token_type_ids)
        return self.embed_drop(self.embed_norm(x))

    def encode(self, x: torch.Tensor,
               attention_mask: Optional[torch.Tensor] = None
               ) -> torch.Tensor:
        """Blocks over (N, T, D); ``attention_mask`` (N, T) is 1 on real
        tokens, 0 on padding, which no query attends to."""
        attn_mask = None
        if attention_mask is not None:
            # (N, 1, 1, T): True = a key that queries may attend to
            attn_mask = attention_mask.bool()[:, None, None, :]
        choose_attention_kernel(self.blocks, x, self.fused_attn)
        for blk in self.blocks:
            x = blk(x, attn_mask=attn_mask)
        return self.norm(x)

    def forward(self, input_ids: torch.Tensor,
                attention_mask: Optional[torch.Tensor] = None,
                token_type_ids: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(N, T) ids -> (N, T, D) hidden states."""
        return self.encode(self.embed(input_ids, token_type_ids),
                           attention_mask)

    # ---------------------------------------------- finetuning helpers
    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """Layer id for layer-wise lr decay, the ViT's rule: embeddings
        (word, position, segment, their norm) -> 0, ``blocks.i`` -> i + 1,
        the rest (final norm; the head outside) -> depth + 1."""
        num_layers = self.depth + 2
        name = param_name[len(prefix):] if param_name.startswith(prefix) \
            else param_name
        if name.startswith(('word_embed', 'pos_embed', 'type_embed',
                            'embed_norm')):
            return 0, num_layers
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers

    def no_weight_decay(self) -> Sequence[str]:
        # BERT decays embeddings; norms and biases (1-D) are exempt anyway
        return ()
