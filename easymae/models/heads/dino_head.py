"""DINO's projection head (Caron et al. 2021).

A 3-layer MLP with GELU (hidden 2048) down to a 256-d bottleneck, which is
L2-normalised and mapped to ``out_dim`` (65536) prototype scores by a
weight-normalised linear layer without bias. With ``norm_last_layer`` the
weight-norm gain is fixed to 1, so each prototype is a unit vector (the
release's default: more stable training).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS


class WeightNormLinear(nn.Module):
    """``y = x @ (g * v / ||v||).T`` with one ``g`` per output; without a
    trained gain (``learn_scale=False``) ``g`` is 1."""

    def __init__(self, in_features: int, out_features: int,
                 learn_scale: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)  # nn.Linear's
        self.scale = nn.Parameter(torch.ones(out_features, 1)) \
            if learn_scale else None
        # DINO freezes the layer in the first epoch(s)
        self.frozen = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, scale = self.weight, self.scale
        if self.frozen:
            # a zero gradient rather than none: under DDP every parameter
            # must receive one
            weight = weight.detach() + 0 * weight
            if scale is not None:
                scale = scale.detach() + 0 * scale
        w = F.normalize(weight, dim=1)
        if scale is not None:
            w = w * scale
        return F.linear(x, w)


@MODELS.register_module()
class DINOHead(nn.Module):
    """Args:
        in_channels: the backbone's width.
        out_dim: number of prototypes (65536 in the paper).
        hidden_dim, bottleneck_dim, num_layers: the MLP (2048, 256, 3).
        norm_last_layer: keep the prototypes unit vectors (gain fixed).
    """

    def __init__(self, in_channels: int, out_dim: int = 65536,
                 hidden_dim: int = 2048, bottleneck_dim: int = 256,
                 num_layers: int = 3, norm_last_layer: bool = True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'DINOHead: num_layers must be >= 1, got '
                             f'{num_layers}')
        dims = [in_channels] + [hidden_dim] * (num_layers - 1) + \
            [bottleneck_dim]
        layers = []
        for i in range(num_layers):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < num_layers - 1:
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.last_layer = WeightNormLinear(bottleneck_dim, out_dim,
                                           learn_scale=not norm_last_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(self.mlp(x), dim=-1)
        return self.last_layer(x)
