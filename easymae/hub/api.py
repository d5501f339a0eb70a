"""The model API: ``get_model``, ``list_models`` and feature extraction."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.registry import MODELS
from .pretrained import load_pretrained_backbone
from .zoo import fetch, get_entry
from .zoo import list_models as _list_models


def list_models(index: Optional[str] = None) -> List[str]:
    """Names of the model-zoo entries (``easymae.get_model`` takes them)."""
    return _list_models(index)


def _backbone(model: nn.Module) -> nn.Module:
    return model.backbone if isinstance(
        getattr(model, 'backbone', None), nn.Module) else model


def get_model(name: str, pretrained: bool = True,
              index: Optional[str] = None, offline: Optional[bool] = None,
              **overrides) -> nn.Module:
    """The easymae model of a zoo entry, with its weights (``pretrained``).

    The entry's ``model`` config is built from the registry (``overrides``
    update it, e.g. ``img_size=448`` or ``global_pool='avg'``); its
    checkpoint is downloaded once, verified, converted from the entry's
    layout and loaded strictly into the ViT encoder. Returned in eval mode.
    """
    entry = get_entry(name, index)
    cfg = dict(entry['model'], **overrides)
    cfg.pop('init_cfg', None)
    model = MODELS.build(cfg)
    if pretrained:
        path = fetch(name, index, offline=offline)
        load_pretrained_backbone(_backbone(model), path,
                                 layout=entry['layout'])
    return model.eval()


def _to_batch(images, size: int) -> torch.Tensor:
    """Images -> float (N, 3, size, size) on the 0..255 scale."""
    if isinstance(images, torch.Tensor):
        batch = images
        if batch.dim() == 3:
            batch = batch.unsqueeze(0)
        if batch.shape[1] != 3 and batch.shape[-1] == 3:
            batch = batch.permute(0, 3, 1, 2)  # NHWC -> NCHW
        # uint8 is already 0..255; floats in 0..1 are scaled up
        if images.is_floating_point() and batch.max() <= 1.0:
            batch = batch * 255.0
        batch = batch.float()
    else:
        arrays = [np.asarray(im) for im in images]
        for i, im in enumerate(arrays):
            if im.ndim != 3 or im.shape[-1] != 3:
                raise ValueError(f'extract_features: image {i} has shape '
                                 f'{im.shape}; expected H x W x 3 RGB')
        batch = [F.interpolate(torch.from_numpy(im.copy()).permute(
            2, 0, 1)[None].float(), size=(size, size), mode='bilinear',
            align_corners=False) for im in arrays]
        batch = torch.cat(batch)
    if batch.shape[-2:] != (size, size):
        batch = F.interpolate(batch, size=(size, size), mode='bilinear',
                              align_corners=False)
    return batch


@torch.no_grad()
def extract_features(model: nn.Module, images: Union[torch.Tensor,
                                                      Sequence[np.ndarray]],
                     kind: str = 'pooled') -> torch.Tensor:
    """Features of a batch of images from a ViT (or a model with one as
    ``backbone``), the mmpretrain / open_clip habit.

    images: a uint8 or float tensor (N, 3, H, W) / (N, H, W, 3) -- float in
        0..1 or 0..255 -- or a list of H x W x 3 RGB uint8 arrays; resized
        to the model's input size and normalised with ImageNet statistics.
    kind: 'pooled' -> (N, D), the model's pooling (cls token or mean of
        patch tokens, per ``global_pool``); 'cls' -> (N, D) the cls token;
        'patch' -> (N, L, D) the patch tokens.
    """
    if kind not in ('pooled', 'cls', 'patch'):
        raise ValueError(f"extract_features: kind must be 'pooled', 'cls' "
                         f"or 'patch', got {kind!r}")
    vit = _backbone(model)
    was_training = vit.training
    vit.eval()
    x = _to_batch(images, vit.img_size)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    param = next(vit.parameters())
    x = ((x - mean) / std).to(param.device, param.dtype)
    tokens = vit.forward_features(x)
    vit.train(was_training)
    if kind == 'patch':
        return tokens[:, 1:]
    if kind == 'cls':
        return tokens[:, 0]
    if vit.global_pool == '':
        return tokens[:, 1:].mean(dim=1)
    return vit.pool(tokens)
