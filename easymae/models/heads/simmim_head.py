"""SimMIM's loss: L1 on the pixels of masked patches only."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS


@MODELS.register_module()
class SimMIMHead(nn.Module):
    """Mean absolute error over masked pixels, normalised as the reference:
    ``sum(|pred - target| * mask) / (mask.sum() + 1e-5) / in_chans``, where
    ``mask`` is the patch mask spread to pixels with a single channel.

    The target is the input image as the data preprocessor hands it over
    (normalised by ImageNet mean and std), as in the reference.

    Args:
        patch_size: pixels per mask-grid cell side (the ViT patch size).
        in_chans: image channels.
    """

    def __init__(self, patch_size: int = 16, in_chans: int = 3):
        super().__init__()
        self.patch_size = patch_size
        self.in_chans = in_chans

    def pixel_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """(N, h, w) patch mask -> (N, 1, H, W) pixel mask."""
        p = self.patch_size
        return mask.repeat_interleave(p, 1).repeat_interleave(p, 2) \
            .unsqueeze(1).contiguous()

    def loss(self, pred: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
        """pred, target (N, C, H, W); mask (N, h, w), 1 = masked."""
        if pred.shape != target.shape:
            raise ValueError(f'SimMIMHead: prediction {tuple(pred.shape)} '
                             f'and target {tuple(target.shape)} differ')
        mask = self.pixel_mask(mask).to(torch.float32)
        if mask.shape[-2:] != target.shape[-2:]:
            raise ValueError(
                f'SimMIMHead: mask covers {tuple(mask.shape[-2:])} pixels '
                f'but the image is {tuple(target.shape[-2:])}')
        loss_recon = F.l1_loss(target.float(), pred.float(), reduction='none')
        return (loss_recon * mask).sum() / (mask.sum() + 1e-5) / self.in_chans
