"""Linear CKA between the layer representations of two models."""
from typing import List

import torch


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear centred kernel alignment of (N, D1) and (N, D2) features.

    1 for representations equal up to rotation and isotropic scaling;
    invariant to the feature dimension, so layers of different widths
    compare (Kornblith et al., 2019).
    """
    x = x.double() - x.double().mean(0, keepdim=True)
    y = y.double() - y.double().mean(0, keepdim=True)
    cross = (y.T @ x).norm() ** 2
    return float(cross / ((x.T @ x).norm() * (y.T @ y).norm()))


@torch.no_grad()
def layer_features(backbone, x: torch.Tensor) -> List[torch.Tensor]:
    """Mean patch token after every block: one (N, D) tensor per layer."""
    tokens = backbone.prepend_cls(backbone.embed(x))
    feats = []
    for blk in backbone.blocks:
        tokens = blk(tokens)
        feats.append(tokens[:, 1:].mean(dim=1))
    return feats
