"""MAE's per-sample random masking and patch (un)folding."""
from typing import Optional, Tuple

import torch


def random_masking(x: torch.Tensor, mask_ratio: float,
                   noise: Optional[torch.Tensor] = None,
                   len_keep: Optional[int] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                              torch.Tensor]:
    """Keep a random subset of tokens per sample, as the reference MAE does.

    x: (N, L, D) patch tokens. Noise is drawn as ``torch.rand(N, L)`` once,
    and the ``L * (1 - mask_ratio)`` lowest-noise tokens are kept, so a seeded
    run masks exactly like the reference implementation. ``len_keep``
    overrides that count.

    Returns:
        x_kept (N, len_keep, D), mask (N, L) with 0 = kept and 1 = removed,
        ids_restore (N, L) to unshuffle, ids_keep (N, len_keep).
    """
    N, L, D = x.shape
    if len_keep is None:
        len_keep = int(L * (1 - mask_ratio))
    if not 0 < len_keep <= L:
        raise ValueError(f'random_masking: keeping {len_keep} of {L} tokens '
                         f'(mask_ratio {mask_ratio}) is not possible')
    if noise is None:
        noise = torch.rand(N, L, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)  # ascending: small is kept
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(N, L, device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore, ids_keep


def patchify(imgs: torch.Tensor, p: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, L, p*p*C), the reference MAE's pixel order."""
    N, C, H, W = imgs.shape
    if H % p or W % p:
        raise ValueError(f'image size {(H, W)} is not divisible by patch '
                         f'size {p}')
    h, w = H // p, W // p
    x = imgs.reshape(N, C, h, p, w, p)
    x = torch.einsum('nchpwq->nhwpqc', x)
    return x.reshape(N, h * w, p * p * C)


def unpatchify(x: torch.Tensor, p: int, channels: int = 3) -> torch.Tensor:
    """(N, L, p*p*C) -> (N, C, H, W) for a square grid."""
    N, L, _ = x.shape
    h = w = int(round(L ** 0.5))
    if h * w != L:
        raise ValueError(f'{L} patches do not form a square grid')
    x = x.reshape(N, h, w, p, p, channels)
    x = torch.einsum('nhwpqc->nchpwq', x)
    return x.reshape(N, channels, h * p, w * p)
