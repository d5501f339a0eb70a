"""MAE's linear-probe normaliser: BatchNorm without affine before the head.

Frozen MAE features have very different scales per channel; a parameter-free
BatchNorm (``affine=False``) whitens them so that one learning rate suits a
linear classifier (He et al. 2021, appendix A.3). Its running statistics are
still updated in training and used in evaluation.
"""
import torch
import torch.nn as nn

from easymae.registry import MODELS


@MODELS.register_module()
class BatchNormNeck(nn.Module):

    def __init__(self, in_channels: int, eps: float = 1e-6,
                 affine: bool = False):
        super().__init__()
        self.bn = nn.BatchNorm1d(in_channels, affine=affine, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(x)
