"""SimMIM's one-layer prediction head: a 1x1 conv and a pixel shuffle."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from easymae.registry import MODELS


@MODELS.register_module()
class SimMIMDecoder(BaseModule):
    """Encoder feature map (N, D, h, w) -> pixels (N, out_chans, H, W).

    The paper's point is that a prediction head this light is enough: each
    token predicts its own ``encoder_stride`` x ``encoder_stride`` pixels by a
    linear map, and ``PixelShuffle`` lays them out as an image.

    Args:
        in_channels: the encoder's width D.
        encoder_stride: pixels per token side (the ViT patch size).
        out_chans: image channels to predict.
    """

    def __init__(self, in_channels: int = 768, encoder_stride: int = 16,
                 out_chans: int = 3, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if encoder_stride < 1:
            raise ValueError(f'SimMIMDecoder: encoder_stride must be >= 1, '
                             f'got {encoder_stride}')
        self.encoder_stride = encoder_stride
        self.conv = nn.Conv2d(in_channels, encoder_stride**2 * out_chans,
                              kernel_size=1)
        self.pixel_shuffle = nn.PixelShuffle(encoder_stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel_shuffle(self.conv(x))
