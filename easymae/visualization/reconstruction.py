"""MAE reconstruction pictures: original | masked | prediction | pasted.

With ``norm_pix`` the decoder predicts each patch normalised by *its own*
mean and variance; to show it, every predicted patch is mapped back with the
statistics of the corresponding original patch (the way the official demo
does), then the data preprocessor's mean/std are undone.
"""
from typing import Optional

import numpy as np
import torch

from easymae.models.utils import patchify, unpatchify


def denormalize_patches(pred: torch.Tensor, x: torch.Tensor, head):
    """Map predictions in the loss's target space back to pixel patches
    of ``x``'s space, using each original patch's own mean and variance."""
    if not getattr(head, 'norm_pix', False):
        return pred
    target = patchify(x, head.patch_size)
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)
    return pred * (var + head.eps) ** 0.5 + mean


@torch.no_grad()
def reconstruct(model, images: torch.Tensor,
                noise: Optional[torch.Tensor] = None) -> dict:
    """images: (N, 3, H, W) uint8. Returns uint8 (N, H, W, 3) arrays for
    'original', 'masked', 'reconstruction' and 'pasted'."""
    model.eval()
    data = model.data_preprocessor(dict(inputs=images), False)
    x = data['inputs']
    p = model.head.patch_size
    latent, mask, ids_restore = model.forward_encoder(x, model.mask_ratio,
                                                      noise)
    pred = model.forward_decoder(latent, ids_restore).float()
    pred = denormalize_patches(pred, x, model.head)
    recon = unpatchify(pred, p, x.shape[1])
    channels = x.shape[1]
    pix_mask = unpatchify(  # 1 on removed pixels
        mask.unsqueeze(-1).expand(-1, -1, p * p * channels), p, channels)
    pasted = x * (1 - pix_mask) + recon * pix_mask

    mean = model.data_preprocessor.mean.to(x.device)
    std = model.data_preprocessor.std.to(x.device)

    def to_uint8(t):
        t = (t * std + mean).clamp(0, 255).round().byte()
        return t.permute(0, 2, 3, 1).cpu().numpy()

    masked = to_uint8(x)
    masked[pix_mask.permute(0, 2, 3, 1).cpu().numpy() > 0.5] = 127  # grey
    return dict(original=to_uint8(x), masked=masked,
                reconstruction=to_uint8(recon), pasted=to_uint8(pasted))


def make_grid(parts: dict, pad: int = 2) -> np.ndarray:
    """Rows = images, columns = original / masked / reconstruction / pasted."""
    cols = [parts[k] for k in ('original', 'masked', 'reconstruction',
                               'pasted')]
    n, h, w, c = cols[0].shape
    grid = np.full((n * (h + pad) + pad, 4 * (w + pad) + pad, c), 255,
                   dtype=np.uint8)
    for i in range(n):
        for j, col in enumerate(cols):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            grid[top:top + h, left:left + w] = col[i]
    return grid
