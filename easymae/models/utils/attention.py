"""Attention in timm ViT blocks: which kernel runs, and keeping the maps.

``choose_attention_kernel`` points blocks at SDPA or at the plain matmul
path (the ``fused_attn`` option of our ViT, MAE decoder and text tower).

timm's fused attention never materialises the softmax map; analysis tools
and attention distillation need it, so ``encode_with_attention`` runs the
chosen blocks with the same parameters, step for step as ``Block.forward``,
with the map kept.
"""
from typing import Dict, Iterable, Tuple, Union

import torch


def check_fused_attn(owner: str, fused_attn) -> None:
    if fused_attn not in (True, False, 'auto'):
        raise ValueError(f"{owner}: fused_attn must be True, False or "
                         f"'auto', got {fused_attn!r}")


def _bf16_on_cpu(x: torch.Tensor) -> bool:
    if x.device.type != 'cpu':
        return False
    return x.dtype == torch.bfloat16 or (
        torch.is_autocast_enabled('cpu')
        and torch.get_autocast_dtype('cpu') == torch.bfloat16)


def choose_attention_kernel(blocks, x: torch.Tensor,
                            fused_attn: Union[bool, str] = 'auto') -> None:
    """Point timm blocks at fused SDPA or at matmul-softmax-matmul.

    timm's ``Attention`` reads ``fused_attn`` on every call. 'auto' picks
    the plain matmul path when training in bf16 on the CPU, SDPA otherwise:
    there, the backward of torch's CPU flash attention is 1.7-5x slower than
    the plain path's on ViT shapes (short sequences, head dim 32-64); in
    fp32 neither wins everywhere, and on GPUs SDPA wins and saves memory
    (``benchmarks/attention_kernels.py``).
    """
    if fused_attn == 'auto':
        fused_attn = not (torch.is_grad_enabled() and _bf16_on_cpu(x))
    for blk in blocks:
        blk.attn.fused_attn = fused_attn


def block_forward_with_attention(block, x: torch.Tensor
                                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """One timm ``Block`` on (N, T, D) tokens -> (output, attention maps
    (N, H, T, T))."""
    attn_mod = block.attn
    h = block.norm1(x)
    B, T, _ = h.shape
    qkv = attn_mod.qkv(h).reshape(B, T, 3, attn_mod.num_heads,
                                  attn_mod.head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    q, k = attn_mod.q_norm(q), attn_mod.k_norm(k)
    attn = ((q * attn_mod.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
    out = (attn_mod.attn_drop(attn) @ v).transpose(1, 2).reshape(
        B, T, attn_mod.attn_dim)
    out = attn_mod.proj_drop(attn_mod.proj(attn_mod.norm(out)))
    x = x + block.drop_path1(block.ls1(out))
    x = x + block.drop_path2(block.ls2(block.mlp(block.norm2(x))))
    return x, attn


def encode_with_attention(
        backbone, x: torch.Tensor, layers: Iterable[int]
) -> Tuple[torch.Tensor, Dict[int, torch.Tensor]]:
    """``backbone.encode`` that also returns the maps of ``layers``.

    Layer indices are block indices; negative ones count from the end.
    Blocks not asked for run the backbone's usual kernel.
    """
    depth = len(backbone.blocks)
    wanted = {i % depth for i in layers}
    choose_attention_kernel(backbone.blocks, x,
                            getattr(backbone, 'fused_attn', 'auto'))
    maps = {}
    for i, blk in enumerate(backbone.blocks):
        if i in wanted:
            x, maps[i] = block_forward_with_attention(blk, x)
        else:
            x = blk(x)
    return backbone.norm(x), maps
