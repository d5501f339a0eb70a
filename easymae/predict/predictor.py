"""Predictions from a trained model: top-k classes, zero-shot classes or
features for image files, folders or arrays.

    import easymae
    results = easymae.inference('work_dirs/ft/epoch_10.pth', ['a.jpg', 'dir/'])
    results[0]['topk']  # [{'label': 3, 'class': '3', 'score': 0.91}, ...]

Images go through the model's own evaluation pipeline: the config's
``test_dataloader`` (else ``val_dataloader``) pipeline, read from the
checkpoint as data or from a given config, without the steps that load
labels or text and without random steps; then, when the result is not the
model's input size, the shorter side is resized to it and the centre
cropped (the rule for sources that resize in memory, like ``Digits``, and
for configs without an evaluation pipeline). The model's data preprocessor
normalises, as in ``tools/test.py``.

Class names come from the checkpoint's ``meta['dataset_meta']['classes']``
(mmengine's runner stores the training set's ``classes`` there); without
them, class indices are reported and a note says why. An image-text model
(FLIP / CLIP) classifies zero-shot into the class names it is given.
"""
import os
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from easymae.config_check import check_config_syntax
from easymae.datasets.dataset import build_pipeline
from easymae.datasets.transforms.loading import BadImageError
from easymae.evaluation.zero_shot import build_zero_shot_weights
from easymae.fileio.checkpoint_config import read_checkpoint_config
from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    describe_checkpoint,
    load_state_dict_strict,
    state_dict_of,
)
from easymae.hub.export import backbone_of, input_size_of, input_spec
from easymae.registry import MODELS
from easymae.resources import find_config
from .inputs import (
    classes_in_meta,
    eval_pipeline_cfg,
    fit_to_input,
    list_images,
    parse_classes,
    to_rgb,
)


def _load_cfg(config: Optional[str]) -> Optional[dict]:
    if config is None:
        return None
    path = find_config(config)
    check_config_syntax(path)
    return Config.fromfile(path).to_dict()


def model_from_checkpoint(path: str, cfg: Optional[dict] = None):
    """(model in eval mode, config dict, checkpoint meta): the model the
    checkpoint was trained with (its stored config, read as data, or
    ``cfg``), loaded strictly."""
    ckpt = load_file(path)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    if cfg is None:
        cfg = read_checkpoint_config(meta, path)
    if 'model' not in cfg:
        raise ValueError(f'{path}: the config has no model')
    model_cfg = dict(cfg['model'])
    # the weights come from the checkpoint: no pretrained init
    for part in ('backbone', 'teacher'):
        if isinstance(model_cfg.get(part), dict):
            model_cfg[part] = dict(model_cfg[part], init_cfg=None)
    model = MODELS.build(model_cfg)
    state, _ = state_dict_of(ckpt, path)
    load_state_dict_strict(model, state, path,
                           kind=describe_checkpoint(ckpt))
    return model.eval(), cfg, meta or {}


def _num_classes(model: nn.Module) -> Optional[int]:
    head = getattr(model, 'head', None)
    for name in ('num_classes', 'out_features'):
        if isinstance(getattr(head, name, None), int):
            return getattr(head, name)
    fc = getattr(head, 'fc', None)
    return getattr(fc, 'out_features', None)


class Predictor:
    """A model ready for images: its evaluation pipeline, class names and
    task ('classify', 'zero-shot' or 'features' only).

    Args:
        model: the model (an ``ImageClassifier``, an image-text model such
            as FLIP, or any model with a ViT ``backbone`` / a bare ViT).
        cfg: its config as a dict, for the evaluation pipeline.
        classes: class names (from the checkpoint, or given); for an
            image-text model, the names to classify into zero-shot.
        templates: zero-shot prompt templates (a set name or strings).
        device: 'cpu', 'cuda' or None (CUDA when available).
    """

    def __init__(self, model: nn.Module, cfg: Optional[dict] = None,
                 classes: Optional[Sequence[str]] = None,
                 templates: Union[str, Sequence[str]] = 'simple',
                 device: Optional[str] = None, source: str = 'model'):
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if str(device).startswith('cuda') and not torch.cuda.is_available():
            raise RuntimeError(f'device {device!r}: CUDA is not available '
                               'here; use --device cpu')
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.source = source
        self.notes: List[str] = []
        self.size = input_size_of(model)
        self.pipeline = build_pipeline(eval_pipeline_cfg(cfg, self.size[0]))
        self.classes = list(classes) if classes else None
        if hasattr(model, 'set_zero_shot_weights'):
            self.task = 'zero-shot' if self.classes else 'features'
            if self.classes:
                model.set_zero_shot_weights(build_zero_shot_weights(
                    model, self.classes, templates))
        elif isinstance(getattr(model, 'head', None), nn.Module) and \
                hasattr(model, 'predict'):
            self.task = 'classify'
            n = _num_classes(model)
            if self.classes and n is not None and len(self.classes) != n:
                self.notes.append(
                    f'{len(self.classes)} class names for a {n}-class head: '
                    'printing class indices instead')
                self.classes = None
            elif not self.classes:
                self.notes.append(
                    f'{source} stores no class names '
                    "(meta['dataset_meta']['classes']): printing class "
                    'indices')
        else:
            self.task = 'features'

    # ---------------------------------------------------------- images
    def load(self, item) -> torch.Tensor:
        """One file or array -> uint8 (3, H, W) through the pipeline."""
        results = {'img_path': item} if isinstance(item, str) else \
            {'img': to_rgb(item), 'img_path': None}
        for step in self.pipeline:
            results = step(results)
        img = fit_to_input(to_rgb(np.asarray(results['img'])), *self.size)
        return torch.from_numpy(img).permute(2, 0, 1)

    def _normalise(self, batch: torch.Tensor) -> torch.Tensor:
        dp = getattr(self.model, 'data_preprocessor', None)
        if dp is not None:
            return dp(dict(inputs=batch), False)['inputs']
        spec = input_spec(self.model)
        x = batch.to(self.device).float()
        mean = torch.tensor(spec['mean'], device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(spec['std'], device=self.device).view(1, 3, 1, 1)
        return (x - mean) / std

    @torch.no_grad()
    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        model = self.model
        if hasattr(model, 'extract_image_feat'):
            return model.extract_image_feat(inputs)
        if hasattr(model, 'extract_feat') and hasattr(model, 'head'):
            return model.extract_feat(inputs)
        return backbone_of(model)(inputs)

    @torch.no_grad()
    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.stack([r['pred_score'] for r in
                            self.model.predict(inputs)]).float()

    def __call__(self, images, topk: int = 5, batch_size: int = 32,
                 features: bool = False, progress: bool = False
                 ) -> List[Dict[str, Any]]:
        """One dict per image, in order: ``image`` (path or ``#i``), and
        ``topk`` (label, class, score), ``pred_label``, ``pred_class``,
        ``pred_score`` when classifying, ``features`` (a numpy vector)
        when asked, or ``error`` when the image could not be read."""
        if not features and self.task == 'features':
            raise ValueError(
                f'{type(self.model).__name__} has no classification head'
                + (' and no class names were given for zero-shot '
                   'classification (classes=, --classes cat,dog or a file)'
                   if hasattr(self.model, 'set_zero_shot_weights') else '')
                + '; ask for features instead')
        items = list_images(images)
        if not items:
            raise FileNotFoundError(f'no images found in {images!r}')
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(items), unit='img', desc='predict')
        results: List[Dict[str, Any]] = []
        try:
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                results.extend(self._batch(chunk, start, topk, features))
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return results

    def _batch(self, chunk, start, topk, features):
        out, tensors, ok = [], [], []
        for i, item in enumerate(chunk):
            name = item if isinstance(item, str) else f'#{start + i}'
            record = {'image': name}
            try:
                tensors.append(self.load(item))
                ok.append(record)
            except (BadImageError, ValueError, OSError) as err:
                record['error'] = str(err)
            except Exception as err:  # a decoder's own error (cv2.error)
                record['error'] = f'cannot read {name!r}: {err}'
            out.append(record)
        if not tensors:
            return out
        inputs = self._normalise(torch.stack(tensors).to(self.device))
        if features:
            feats = self.features(inputs).float().cpu().numpy()
            for record, vec in zip(ok, feats):
                record['features'] = vec
        if self.task in ('classify', 'zero-shot'):
            scores = self.scores(inputs).cpu()
            k = min(topk, scores.shape[1])
            values, labels = scores.topk(k, dim=1)
            for record, vals, labs in zip(ok, values, labels):
                top = [{'label': int(lab), 'class': self._name(int(lab)),
                        'score': float(val)}
                       for val, lab in zip(vals, labs)]
                record.update(pred_label=top[0]['label'],
                              pred_class=top[0]['class'],
                              pred_score=top[0]['score'], topk=top)
        return out

    def _name(self, label: int) -> Optional[str]:
        return self.classes[label] if self.classes else None


def load_predictor(model_or_ckpt: Union[nn.Module, str],
                   config: Optional[str] = None,
                   classes: Union[None, str, Sequence[str]] = None,
                   templates: Union[str, Sequence[str]] = 'simple',
                   device: Optional[str] = None) -> Predictor:
    """A :class:`Predictor` from a model, a checkpoint file (its stored
    config, or ``config``: a file or a config name) or a model-zoo name
    (an encoder: features, or zero-shot when it is image-text)."""
    cfg = _load_cfg(config)
    given = parse_classes(classes)
    if isinstance(model_or_ckpt, nn.Module):
        return Predictor(model_or_ckpt, cfg, given, templates, device)
    name = os.fspath(model_or_ckpt)
    if osp.isfile(name):
        model, cfg, meta = model_from_checkpoint(name, cfg)
        stored = classes_in_meta(meta)
        return Predictor(model, cfg, given or stored, templates, device,
                         source=name)
    from easymae.hub.api import get_model
    from easymae.hub.zoo import UnknownModelError
    try:
        model = get_model(name)
    except UnknownModelError as err:
        raise FileNotFoundError(f'{name!r} is neither a checkpoint file '
                                f'nor a model-zoo name ({err})') from None
    return Predictor(model, cfg, given, templates, device, source=name)


def inference(model_or_name_or_ckpt: Union[nn.Module, str], images,
              config: Optional[str] = None, topk: int = 5,
              classes: Union[None, str, Sequence[str]] = None,
              templates: Union[str, Sequence[str]] = 'simple',
              features: bool = False, device: Optional[str] = None,
              batch_size: int = 32, progress: bool = False
              ) -> List[Dict[str, Any]]:
    """Classify (or embed) images with a trained model.

    model_or_name_or_ckpt: a model, a checkpoint file or a model-zoo name.
    images: a file, a folder (its images, recursively), an H x W x 3 RGB
        array, or a list of those.
    config: a config file or name, instead of the checkpoint's own.
    classes: class names (list, 'cat,dog' or a file): the zero-shot classes
        of an image-text model, or names for a classifier's labels.
    features: also return each image's features (``'features'``).

    Returns one dict per image (see :meth:`Predictor.__call__`); an image
    that cannot be read has ``'error'`` and the others are still done.
    Notes (e.g. no class names in the checkpoint) are issued as warnings.
    """
    predictor = load_predictor(model_or_name_or_ckpt, config, classes,
                               templates, device)
    for note in predictor.notes:
        warnings.warn(note, stacklevel=2)
    return predictor(images, topk=topk, batch_size=batch_size,
                     features=features, progress=progress)
