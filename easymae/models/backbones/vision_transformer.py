"""A ViT whose parameter names are timm's and whose forward knows masking.

Inside the backbone, names are exactly timm's / the official MAE release's
(``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``blocks.N.*``, ``norm``,
``fc_norm``), so weights move between easymae, timm and MAE by prefix alone.
The blocks are timm's; ``fused_attn`` picks SDPA or the plain matmul path
(see ``utils/attention.py``: 'auto' trains in bf16 on the CPU without SDPA).

Besides the plain classification forward, the backbone exposes the three
steps that masked-image algorithms recombine:
``embed`` (patches + position), ``prepend_cls`` and ``encode`` (blocks + norm).
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
from ..utils.pos_embed import get_2d_sincos_pos_embed
from .patch_embed import PatchEmbed

# arch -> (embed_dim, depth, num_heads)
ARCHS = {
    'tiny': (192, 12, 3),
    'small': (384, 12, 6),
    'base': (768, 12, 12),
    'large': (1024, 24, 16),
    'huge': (1280, 32, 16),
}


@MODELS.register_module()
class VisionTransformer(BaseModule):
    """Args:
        arch: 'tiny' | 'small' | 'base' | 'large' | 'huge'; ``embed_dim``,
            ``depth`` and ``num_heads`` override its values.
        img_size, patch_size, in_chans: the input and its patch grid.
        pos_embed: 'sincos' (fixed, MAE) or 'learned' (trained, DeiT).
        global_pool: 'token' returns the cls token after ``norm``; 'avg'
            returns the mean of patch tokens after ``fc_norm`` (MAE's finetune
            default; there is then no ``norm``); '' returns all tokens.
        drop_path_rate: stochastic depth, linearly increasing over blocks.
        init_values: layer scale (CaiT; timm's ``init_values``): a learned
            per-channel ``gamma`` after attention and after the MLP of every
            block, starting at this value (SimMIM's ViT-B uses 0.1). None
            (default) leaves it out, and the state dict has no such keys.
        frozen_stages: freeze patch embedding (>= 0) and the first
            ``frozen_stages`` blocks; -1 freezes nothing.
        fused_attn: True (SDPA), False (matmul-softmax-matmul) or 'auto'
            (the matmul path when training in bf16 on the CPU, where it is
            faster).
        patch_embed_impl: 'conv', 'gemm' (reshape + one GEMM, same
            weights) or 'auto' (gemm where it measured faster: the CPU);
            see ``patch_embed.py``.
    """

    def __init__(self, arch: str = 'base', img_size: int = 224,
                 patch_size: int = 16, in_chans: int = 3,
                 embed_dim: Optional[int] = None, depth: Optional[int] = None,
                 num_heads: Optional[int] = None, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, pos_embed: str = 'sincos',
                 global_pool: str = 'token', drop_path_rate: float = 0.0,
                 init_values: Optional[float] = None,
                 norm_eps: float = 1e-6, frozen_stages: int = -1,
                 fused_attn='auto', patch_embed_impl: str = 'auto',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_fused_attn('VisionTransformer', fused_attn)
        if arch not in ARCHS:
            raise ValueError(f'VisionTransformer: arch must be one of '
                             f'{sorted(ARCHS)}, got {arch!r}')
        if img_size % patch_size:
            raise ValueError(f'VisionTransformer: img_size {img_size} is not '
                             f'divisible by patch_size {patch_size}')
        if pos_embed not in ('sincos', 'learned'):
            raise ValueError("VisionTransformer: pos_embed must be 'sincos' "
                             f"or 'learned', got {pos_embed!r}")
        if global_pool not in ('token', 'avg', ''):
            raise ValueError("VisionTransformer: global_pool must be 'token', "
                             f"'avg' or '', got {global_pool!r}")
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'VisionTransformer: drop_path_rate must be in '
                             f'[0, 1), got {drop_path_rate}')
        if init_values is not None and not init_values > 0:
            raise ValueError(f'VisionTransformer: init_values (layer scale) '
                             f'must be > 0 or None, got {init_values}')
        d, n, h = ARCHS[arch]
        self.embed_dim = embed_dim = embed_dim or d
        self.depth = depth = depth or n
        self.num_heads = num_heads = num_heads or h
        if embed_dim % num_heads:
            raise ValueError(f'VisionTransformer: embed_dim {embed_dim} is '
                             f'not divisible by num_heads {num_heads}')
        self.img_size, self.patch_size = img_size, patch_size
        self.in_chans = in_chans
        self.global_pool = global_pool
        self.pos_embed_type = pos_embed
        self.frozen_stages = frozen_stages
        self.fused_attn = fused_attn
        self.init_values = init_values
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans,
                                      embed_dim, impl=patch_embed_impl)
        self.num_patches = self.patch_embed.num_patches
        self.grid_size = img_size // patch_size
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 1, embed_dim),
            requires_grad=(pos_embed == 'learned'))
        dpr = drop_path_rates(drop_path_rate, depth)
        self.blocks = nn.ModuleList([
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias=qkv_bias,
                  init_values=init_values, drop_path=dpr[i],
                  norm_layer=norm_layer)
            for i in range(depth)
        ])
        # MAE's global-pool finetuning drops `norm` and adds `fc_norm`.
        use_fc_norm = global_pool == 'avg'
        self.norm = nn.Identity() if use_fc_norm else norm_layer(embed_dim)
        self.fc_norm = norm_layer(embed_dim) if use_fc_norm else nn.Identity()
        self._init_params()
        self._freeze_stages()

    # ----------------------------------------------------------- init
    def _init_params(self):
        if self.pos_embed_type == 'sincos':
            table = get_2d_sincos_pos_embed(self.embed_dim, self.grid_size,
                                            cls_token=True)
            self.pos_embed.data.copy_(table.unsqueeze(0))
        else:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        # as the reference MAE: patch projection like a linear layer
        w = self.patch_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        for name, m in self.named_modules():
            if name.startswith('patch_embed'):
                continue
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self):
        # Parameters are initialised at construction (as timm does); only an
        # init_cfg (e.g. `Pretrained`) has anything left to do. It is built
        # in the easymae scope, so the `Pretrained` that hub registers
        # (strict, converting) answers even where no default scope is set;
        # mmengine's own would load tolerantly and with full unpickling.
        if self.init_cfg:
            with DefaultScope.overwrite_default_scope(SCOPE):
                super().init_weights()

    def _freeze_stages(self):
        if self.frozen_stages < 0:
            return
        frozen = [self.patch_embed, self.cls_token, self.pos_embed]
        frozen += list(self.blocks[:self.frozen_stages])
        if self.frozen_stages >= self.depth:
            frozen += [self.norm, self.fc_norm]
        for item in frozen:
            params = [item] if isinstance(item, nn.Parameter) else \
                item.parameters()
            for p in params:
                p.requires_grad = False
        for module in self.blocks[:self.frozen_stages]:
            module.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        # frozen blocks keep dropout/drop-path off while the rest trains
        if mode and self.frozen_stages >= 0:
            for module in self.blocks[:self.frozen_stages]:
                module.eval()
        return self

    # ------------------------------------------------ building blocks
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, L, D): patch embeddings plus positions."""
        return self.patch_embed(x) + self.pos_embed[:, 1:, :]

    def prepend_cls(self, x: torch.Tensor) -> torch.Tensor:
        cls = self.cls_token + self.pos_embed[:, :1, :]
        return torch.cat([cls.expand(x.shape[0], -1, -1), x], dim=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        choose_attention_kernel(self.blocks, x, self.fused_attn)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    # ------------------------------------------------------- forward
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """All tokens (cls first) after the blocks and ``norm``."""
        return self.encode(self.prepend_cls(self.embed(x)))

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.global_pool == 'avg':
            return self.fc_norm(tokens[:, 1:].mean(dim=1))
        if self.global_pool == 'token':
            return tokens[:, 0]
        return tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    # ------------------------------------------------- layer decay
    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """Layer id of a parameter for layer-wise lr decay (MAE's rule).

        patch_embed / cls_token / pos_embed -> 0, ``blocks.i`` -> i + 1,
        everything else (norms, and the head outside) -> depth + 1.
        Returns ``(layer_id, num_layers)`` with ``num_layers = depth + 2``.
        """
        num_layers = self.depth + 2
        name = param_name[len(prefix):] if param_name.startswith(prefix) \
            else param_name
        if name.startswith(('patch_embed', 'cls_token', 'pos_embed')):
            return 0, num_layers
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers

    def no_weight_decay(self) -> Sequence[str]:
        return ('pos_embed', 'cls_token')
