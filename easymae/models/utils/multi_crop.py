"""Views of several sizes through one ViT (DINO's multi-crop).

The backbone's patch grid is fixed by its ``img_size``; a smaller crop
(e.g. 96 px at patch 16) gets the position table resized to its own grid
(bicubic, as DINO's ``interpolate_pos_encoding``). Views of equal size are
concatenated and encoded in one pass.
"""
from typing import List, Sequence

import torch
import torch.nn as nn

from .pos_embed import resize_pos_embed


def vit_forward_any_size(vit: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The ViT's pooled output for square images of any multiple of its
    patch size."""
    h, w = x.shape[-2:]
    if (h, w) == (vit.img_size, vit.img_size):
        return vit(x)
    if h != w or h % vit.patch_size:
        raise ValueError(f'multi-crop views must be square multiples of the '
                         f'patch size {vit.patch_size}, got {h}x{w}')
    tokens = vit.patch_embed.proj(x).flatten(2).transpose(1, 2)
    tokens = vit.patch_embed.norm(tokens)
    pos = resize_pos_embed(vit.pos_embed, h // vit.patch_size)
    cls = vit.cls_token + pos[:, :1]
    tokens = torch.cat([cls.expand(len(x), -1, -1), tokens + pos[:, 1:]], 1)
    return vit.pool(vit.encode(tokens))


def size_groups(views: Sequence[torch.Tensor]) -> List[List[int]]:
    """Indices of consecutive views of equal size: [[0, 1], [2, ..., 9]]
    for 2 global then 8 local crops."""
    groups: List[List[int]] = []
    for i, v in enumerate(views):
        if groups and views[groups[-1][0]].shape[-2:] == v.shape[-2:]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def encode_views(encoder, views: Sequence[torch.Tensor]) -> torch.Tensor:
    """``encoder`` (pooled features) on every view, one pass per run of
    equal-size views; rows come out view after view (V * N, D)."""
    out = [encoder(torch.cat([views[i] for i in group]))
           for group in size_groups(views)]
    return torch.cat(out)
