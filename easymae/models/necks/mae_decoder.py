"""MAE's lightweight decoder: it sees every position, visible or not."""
from functools import partial

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from timm.models.vision_transformer import Block

from easymae.registry import MODELS
from ..utils.attention import check_fused_attn, choose_attention_kernel
from ..utils.pos_embed import get_2d_sincos_pos_embed


@MODELS.register_module()
class MAEDecoder(BaseModule):
    """Encoder tokens + a shared mask token -> predicted pixels per patch.

    Attribute names follow the official release (``decoder_embed``,
    ``mask_token``, ``decoder_pos_embed``, ``decoder_blocks``,
    ``decoder_norm``, ``decoder_pred``) so its full checkpoints convert by
    prefix.

    Args:
        num_patches: L, patches per image.
        patch_size, in_chans: the predicted pixels per token are
            ``patch_size**2 * in_chans``.
        embed_dim: the encoder's width.
        decoder_embed_dim, decoder_depth, decoder_num_heads: the decoder.
        fused_attn: True (SDPA), False or 'auto', as the ViT's.
    """

    def __init__(self, num_patches: int = 196, patch_size: int = 16,
                 in_chans: int = 3, embed_dim: int = 768,
                 decoder_embed_dim: int = 512, decoder_depth: int = 8,
                 decoder_num_heads: int = 16, mlp_ratio: float = 4.0,
                 norm_eps: float = 1e-6, fused_attn='auto', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_fused_attn('MAEDecoder', fused_attn)
        self.fused_attn = fused_attn
        grid = int(round(num_patches ** 0.5))
        if grid * grid != num_patches:
            raise ValueError(f'MAEDecoder: num_patches {num_patches} is not '
                             'a square grid')
        if decoder_depth < 1:
            raise ValueError(f'MAEDecoder: decoder_depth must be >= 1, got '
                             f'{decoder_depth}')
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        self.num_patches = num_patches
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(
            get_2d_sincos_pos_embed(decoder_embed_dim, grid,
                                    cls_token=True).unsqueeze(0),
            requires_grad=False)
        self.decoder_blocks = nn.ModuleList([
            Block(decoder_embed_dim, decoder_num_heads, mlp_ratio,
                  qkv_bias=True, norm_layer=norm_layer)
            for _ in range(decoder_depth)
        ])
        self.decoder_norm = norm_layer(decoder_embed_dim)
        self.decoder_pred = nn.Linear(decoder_embed_dim,
                                      patch_size**2 * in_chans)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self):
        if self.init_cfg:
            super().init_weights()

    def forward(self, x: torch.Tensor,
                ids_restore: torch.Tensor = None) -> torch.Tensor:
        """x: (N, 1 + len_keep, D) encoder output, cls first.

        ids_restore: (N, L) from the masking; None when ``x`` already holds
        every position (the "encoder with mask tokens" ablation).
        Returns (N, L, patch_size**2 * in_chans).
        """
        x = self.decoder_embed(x)
        if ids_restore is not None:
            n_masked = ids_restore.shape[1] + 1 - x.shape[1]
            mask_tokens = self.mask_token.expand(x.shape[0], n_masked, -1)
            x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)  # no cls
            x_ = torch.gather(
                x_, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
            x = torch.cat([x[:, :1, :], x_], dim=1)  # cls back in front
        x = x + self.decoder_pos_embed
        choose_attention_kernel(self.decoder_blocks, x, self.fused_attn)
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_norm(x)
        return self.decoder_pred(x)[:, 1:, :]  # drop cls
