"""A two-layer MLP classification head: Linear -> GELU -> Linear.

The unified foundation model's task heads (Li et al., 2021): a hidden
layer as wide as the encoder on the class token's final embedding.
"""
import torch
import torch.nn as nn

from easymae.registry import MODELS


@MODELS.register_module()
class MLPClsHead(nn.Module):
    """Args:
        num_classes: outputs.
        in_channels: the encoder's width.
        hidden_channels: None: ``in_channels``.
        init_std: truncated-normal init of both layers.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 hidden_channels=None, init_std: float = 0.02):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'MLPClsHead: num_classes must be >= 1, got '
                             f'{num_classes}')
        hidden = hidden_channels or in_channels
        self.num_classes = num_classes
        self.fc1 = nn.Linear(in_channels, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, num_classes)
        for fc in (self.fc1, self.fc2):
            nn.init.trunc_normal_(fc.weight, std=init_std)
            nn.init.zeros_(fc.bias)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(feats)))
