"""Rebuild the model of a run's checkpoint, and gather images to probe it."""
import glob
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.config import Config

from easymae.datasets.transforms import read_image
from easymae.datasets.transforms.processing import resize
from easymae.fileio.checkpoint_config import (
    CheckpointConfigError,
    read_checkpoint_config,
)
from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    describe_checkpoint,
    load_state_dict_strict,
    state_dict_of,
)
from easymae.registry import MODELS


def load_model_from_checkpoint(path: str, config: Optional[str] = None):
    """Build the model a checkpoint was trained with and load its weights
    strictly. The config is the given file, else the one stored in the
    checkpoint, read as data (never executed; see
    ``easymae.fileio.checkpoint_config``)."""
    ckpt = load_file(path)
    if config:
        cfg = Config.fromfile(config)
    else:
        meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        cfg = Config(read_checkpoint_config(meta, path))
    if 'model' not in cfg:
        raise CheckpointConfigError(
            f'{config or path}: the config has no model')
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') \
        else dict(cfg.model)
    # the weights come from the checkpoint: skip any pretrained init
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg['backbone'] = dict(model_cfg['backbone'], init_cfg=None)
    if isinstance(model_cfg.get('teacher'), dict):
        model_cfg['teacher'] = dict(model_cfg['teacher'], init_cfg=None)
    model = MODELS.build(model_cfg)
    state, _ = state_dict_of(ckpt, path)
    load_state_dict_strict(model, state, path,
                           kind=describe_checkpoint(ckpt))
    return model.eval()


# the ViT of a trained model to look at: its own backbone, DINO's EMA
# teacher (what DINO evaluates) or MoCo v3's momentum encoder
ENCODERS = {'backbone': ('backbone',), 'teacher': ('teacher', 'backbone'),
            'momentum': ('momentum_encoder', 'backbone')}


def encoder_of(model, which: str = 'backbone'):
    """The ViT ``which`` (a key of ``ENCODERS``) inside ``model``; a model
    without it is an error naming what it has."""
    if which not in ENCODERS:
        raise ValueError(f'encoder {which!r}: expected one of '
                         f'{", ".join(ENCODERS)}')
    module = model
    for name in ENCODERS[which]:
        if name not in dict(module.named_children()):
            have = [k for k in ENCODERS
                    if ENCODERS[k][0] in dict(model.named_children())]
            raise ValueError(
                f'{type(model).__name__} has no {which!r} encoder (it has: '
                f'{", ".join(have) or "none"})')
        module = getattr(module, name)
    return module


def center_square(img: np.ndarray, size: int) -> np.ndarray:
    """The largest centred square of ``img``, resized to size x size."""
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return resize(img, (size, size), 'bicubic')


def load_image_files(paths, size: int) -> torch.Tensor:
    """(N, 3, size, size) uint8 from image files (centre square of each)."""
    return torch.stack([
        torch.from_numpy(np.ascontiguousarray(
            center_square(read_image(p), size))).permute(2, 0, 1)
        for p in paths])


def load_images(source: Optional[str], size: int, limit: int = 64,
                seed: int = 0) -> torch.Tensor:
    """(N, 3, size, size) uint8: files of a folder (recursively) or the
    embedded digits' val split when ``source`` is None."""
    if source is None:
        from easymae.datasets.sources import Digits
        src = Digits('val', img_size=size)
        rng = np.random.RandomState(seed)
        idx = rng.permutation(len(src))[:limit]
        return torch.stack([torch.from_numpy(src[i]['img']).permute(2, 0, 1)
                            for i in idx])
    files = sorted(f for f in glob.glob(osp.join(source, '**', '*'),
                                        recursive=True)
                   if f.lower().endswith(('.jpg', '.jpeg', '.png')))
    if not files:
        raise FileNotFoundError(f'no .jpg/.png images under {source!r}')
    rng = np.random.RandomState(seed)
    files = [files[i] for i in rng.permutation(len(files))[:limit]]
    return load_image_files(files, size)
