"""Joint image + text batches on the device: images normalised, tokens as
they are.

A joint batch is ``{'inputs': {'image': uint8 (N, 3, H, W), 'text': ids
(M, T)}, 'data_samples': {'image': {...}, 'text': {...}}}``. Everything
moves to the model's device; only the images change (float, then
``(x - mean) / std`` per channel on the 0..255 scale). A plain image batch
(a validation loader of images) is normalised the same way.
"""
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from easymae.registry import MODELS


@MODELS.register_module()
class JointDataPreprocessor(BaseDataPreprocessor):
    """Args:
        mean, std: per channel, on the 0..255 scale.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        if len(mean) != len(std):
            raise ValueError(f'JointDataPreprocessor: mean {mean} and std '
                             f'{std} differ in length')
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1),
                             persistent=False)

    def normalize(self, imgs: torch.Tensor) -> torch.Tensor:
        return (imgs.float() - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, dict):
            inputs = dict(inputs)
            if 'image' in inputs:
                inputs['image'] = self.normalize(inputs['image'])
        else:
            inputs = self.normalize(inputs)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
