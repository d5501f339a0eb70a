"""Shared plumbing of every algorithm: build parts, dispatch ``mode``."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

# pipelines hand over uint8 pixels; the data preprocessor normalises them on
# the device with ImageNet statistics on the 0..255 scale
from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.registry import MODELS


def build_part(cfg: Union[dict, nn.Module, None]) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


def classification_results(logits: torch.Tensor, labels=None) -> List[dict]:
    """One dict per sample: ``pred_score`` (softmax), ``pred_label`` and,
    when ``labels`` are given, ``gt_label``: what ``Accuracy`` reads."""
    scores = logits.float().softmax(dim=1)
    labels = None if labels is None else torch.as_tensor(labels)
    results = []
    for i, score in enumerate(scores):
        item = dict(pred_score=score, pred_label=int(score.argmax()))
        if labels is not None:
            item['gt_label'] = int(labels[i])
        results.append(item)
    return results


class BaseAlgorithm(BaseModel):
    """backbone (+ neck) (+ head) with mmengine's ``forward(mode=...)``.

    Subclasses implement ``loss`` and may implement ``predict``;
    ``mode='tensor'`` returns the backbone's output.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ImgDataPreprocessor',
                                     mean=IMAGENET_MEAN, std=IMAGENET_STD)
        super().__init__(data_preprocessor=build_part(data_preprocessor),
                         init_cfg=init_cfg)
        self.backbone = build_part(backbone)
        self.neck = build_part(neck)
        self.head = build_part(head)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.backbone(inputs)
        raise ValueError(f"forward mode must be 'loss', 'predict' or "
                         f"'tensor', got {mode!r}")

    def loss(self, inputs, data_samples=None) -> dict:
        raise NotImplementedError

    def predict(self, inputs, data_samples=None):
        raise NotImplementedError(f'{type(self).__name__} has no predict')
