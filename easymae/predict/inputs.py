"""The images a prediction reads and how it reads them: files, folders or
arrays as a list, each through the model's evaluation pipeline (the
config's, without label, text and random steps), fitted to the model's
input size; class names from a list, a file or a checkpoint's meta."""
import glob
import os
import os.path as osp
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch

from easymae.datasets.transforms.processing import resize

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif',
                    '.tiff')
# pipeline steps that read labels or text, or pack a sample: inference
# packs images itself
_SKIP_WORDS = ('Pack', 'Caption', 'Tokeni', 'Label', 'Text', 'MaskGenerator')


def parse_classes(value: Union[None, str, Sequence[str]]
                  ) -> Optional[List[str]]:
    """Class names from a list, a file (one a line) or 'cat,dog'."""
    if value is None:
        return None
    if isinstance(value, str):
        if osp.isfile(value):
            with open(value, encoding='utf-8') as f:
                names = [ln.strip() for ln in f]
        else:
            names = value.split(',')
    else:
        names = list(value)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise ValueError(f'no class names in {value!r}')
    return names


def list_images(items) -> List[Union[str, np.ndarray]]:
    """Files stay, folders become their image files (recursively, sorted),
    arrays stay; a path that does not exist is kept and fails later with
    its name, like an undecodable file."""
    if isinstance(items, (str, os.PathLike, np.ndarray, torch.Tensor)):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, torch.Tensor):
            item = item.cpu().numpy()
            if item.ndim == 3 and item.shape[0] in (1, 3) and \
                    item.shape[-1] not in (1, 3):
                item = item.transpose(1, 2, 0)  # CHW -> HWC
        if isinstance(item, os.PathLike):
            item = os.fspath(item)
        if isinstance(item, str) and osp.isdir(item):
            out.extend(sorted(
                p for p in glob.glob(osp.join(item, '**', '*'),
                                     recursive=True)
                if p.lower().endswith(IMAGE_EXTENSIONS) and osp.isfile(p)))
        else:
            out.append(item if isinstance(item, str) else np.asarray(item))
    return out


def to_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.shape[-1] == 4:
        img = img[:, :, :3]
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f'an image array must be H x W x 3 RGB, got '
                         f'shape {img.shape}')
    if img.dtype != np.uint8:
        img = np.clip(img * 255.0 if img.max() <= 1.0 else img, 0, 255
                      ).round().astype(np.uint8)
    return np.ascontiguousarray(img)


def eval_pipeline_cfg(cfg: Optional[dict], size: int) -> List[dict]:
    """The evaluation pipeline of ``cfg`` for unlabeled images."""
    pipeline = None
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg or {}).get(key) or {}
        dataset = dataset.get('dataset') or {}
        while isinstance(dataset, dict) and 'pipeline' not in dataset and \
                isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']  # wrapped data sets
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            pipeline = list(dataset['pipeline'])
            break
    if pipeline is None:
        pipeline = [dict(type='Resize', size=size, interpolation='bicubic'),
                    dict(type='CenterCrop', size=size)]
    steps = []
    for step in pipeline:
        kind = str(step.get('type', '')) if isinstance(step, dict) else ''
        if kind.startswith('Random') or any(w in kind for w in _SKIP_WORDS):
            continue
        steps.append(dict(step))
    if not steps or steps[0].get('type') != 'LoadImage':
        steps = [s for s in steps if s.get('type') != 'LoadImage']
        steps.insert(0, dict(type='LoadImage', backend='cv2'))
    steps[0] = dict(steps[0], lazy=False)
    return steps


def fit_to_input(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Shorter side to the input size, then the centre crop."""
    ih, iw = img.shape[:2]
    if (ih, iw) == (h, w):
        return img
    scale = max(h / ih, w / iw)
    img = resize(img, (max(h, round(ih * scale)), max(w, round(iw * scale))),
                 'bicubic')
    ih, iw = img.shape[:2]
    top, left = (ih - h) // 2, (iw - w) // 2
    return np.ascontiguousarray(img[top:top + h, left:left + w])


def classes_in_meta(meta: Any) -> Optional[List[str]]:
    """The class names a checkpoint's meta holds, or None."""
    if not isinstance(meta, dict):
        return None
    dataset_meta = meta.get('dataset_meta')
    names = dataset_meta.get('classes') if isinstance(dataset_meta, dict) \
        else None
    names = names or meta.get('classes')
    return [str(n) for n in names] if names else None
