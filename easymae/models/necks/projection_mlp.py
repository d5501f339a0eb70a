"""MoCo v3's projection and prediction MLPs.

Linear (no bias) -> BatchNorm -> ReLU for every hidden layer, and a last
Linear followed by a BatchNorm without affine parameters (Chen, Xie, He
2021: "all layers in both MLPs have BN"; the release's ``_build_mlp`` with
``last_bn=True``). MoCo v3 ViT: projector 3 layers D -> 4096 -> 4096 ->
256, predictor 2 layers 256 -> 4096 -> 256.
"""
import torch
import torch.nn as nn

from easymae.registry import MODELS


@MODELS.register_module()
class ProjectionMLP(nn.Module):
    """Args:
        in_channels, hidden_channels, out_channels: layer widths.
        num_layers: Linear layers (>= 1); all but the last are followed by
            BatchNorm and ReLU.
        last_bn: BatchNorm(affine=False) after the last Linear (MoCo v3's
            ViT projector and predictor; its ResNet predictor has none).
    """

    def __init__(self, in_channels: int, hidden_channels: int = 4096,
                 out_channels: int = 256, num_layers: int = 3,
                 last_bn: bool = True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'ProjectionMLP: num_layers must be >= 1, got '
                             f'{num_layers}')
        self.out_channels = out_channels
        layers = []
        for i in range(num_layers):
            d_in = in_channels if i == 0 else hidden_channels
            last = i == num_layers - 1
            d_out = out_channels if last else hidden_channels
            layers.append(nn.Linear(d_in, d_out, bias=False))
            if not last:
                layers += [nn.BatchNorm1d(d_out), nn.ReLU(inplace=True)]
            elif last_bn:
                layers.append(nn.BatchNorm1d(d_out, affine=False))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)
