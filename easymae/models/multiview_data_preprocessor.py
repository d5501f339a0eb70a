"""Multi-view batches on the device: each view normalised on its own.

With ``MultiView`` in the pipeline a batch's ``inputs`` is a list of
(N, 3, h, w) uint8 tensors, one per view; views may differ in size (DINO's
global and local crops), so they are never stacked or padded into one
tensor (mmengine's ``ImgDataPreprocessor`` would pad them). The result is a
list of float tensors in the same order; algorithms group views of equal
size themselves. A single (N, 3, H, W) tensor is normalised and passed on
as it is, so an algorithm can say that it needs several views.
"""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.registry import MODELS


@MODELS.register_module()
class MultiViewDataPreprocessor(BaseDataPreprocessor):
    """Args:
        mean, std: per channel, on the 0..255 scale of the uint8 inputs.
    """

    def __init__(self, mean: Optional[Sequence[float]] = IMAGENET_MEAN,
                 std: Optional[Sequence[float]] = IMAGENET_STD,
                 non_blocking: bool = False):
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1),
                             persistent=False)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = [self.normalise(v) for v in inputs]
        else:
            inputs = self.normalise(inputs)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
