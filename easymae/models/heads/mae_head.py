"""MAE's pixel-reconstruction loss on masked patches."""
import torch
import torch.nn as nn

from easymae.registry import MODELS
from ..utils.masking import patchify


@MODELS.register_module()
class MAEPretrainHead(nn.Module):
    """Mean squared error per patch, averaged over removed patches only.

    Args:
        patch_size: side of a patch in pixels.
        norm_pix: normalise each target patch by its own mean and variance
            (MAE's ``--norm_pix_loss``; better representations).
    """

    def __init__(self, patch_size: int = 16, norm_pix: bool = True,
                 eps: float = 1e-6):
        super().__init__()
        self.patch_size = patch_size
        self.norm_pix = norm_pix
        self.eps = eps

    def target(self, imgs: torch.Tensor) -> torch.Tensor:
        target = patchify(imgs, self.patch_size)
        if self.norm_pix:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + self.eps) ** 0.5
        return target

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
        """pred (N, L, p*p*C), imgs (N, C, H, W), mask (N, L) 1 = removed."""
        target = self.target(imgs)
        loss = (pred.float() - target.float()) ** 2
        loss = loss.mean(dim=-1)  # per patch
        return (loss * mask).sum() / mask.sum()
