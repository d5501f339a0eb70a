"""The embedded default data: scikit-learn's handwritten digits.

1,797 real 8x8 grey-scale scans of handwritten digits (UCI ML hand-written
digits), shipped inside scikit-learn, so a fresh machine without internet has
a real image data set. Images are upsampled to ``img_size`` and repeated to
three channels so the same ViT recipes run on them.
"""
import cv2
import numpy as np

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource


@DATA_SOURCES.register_module()
class Digits(BaseDataSource):
    """Args:
        split: 'train', 'val' or 'all'. The split is stratified and fixed by
            ``split_seed``, so 'train' and 'val' never overlap.
        img_size: side of the upsampled square image.
        val_fraction: share of each class held out for 'val'.
    """

    def __init__(self, split: str = 'train', img_size: int = 32,
                 val_fraction: float = 0.2, split_seed: int = 0):
        from sklearn.datasets import load_digits
        if split not in ('train', 'val', 'all'):
            raise ValueError(f"Digits: split must be 'train', 'val' or 'all',"
                             f' got {split!r}')
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f'Digits: val_fraction must be in (0, 1), got '
                             f'{val_fraction}')
        super().__init__([str(i) for i in range(10)])
        digits = load_digits()
        images = digits.images  # (1797, 8, 8), values 0..16
        labels = digits.target
        rng = np.random.RandomState(split_seed)
        indices = []
        for c in range(10):
            idx = np.flatnonzero(labels == c)
            rng.shuffle(idx)
            n_val = int(round(len(idx) * val_fraction))
            chosen = {'val': idx[:n_val], 'train': idx[n_val:],
                      'all': idx}[split]
            indices.extend(chosen.tolist())
        indices.sort()
        for i in indices:
            grey = (images[i] * (255.0 / 16.0)).round().astype(np.uint8)
            big = cv2.resize(grey, (img_size, img_size),
                             interpolation=cv2.INTER_CUBIC)
            img = np.ascontiguousarray(np.repeat(big[:, :, None], 3, axis=2))
            self.samples.append(dict(img=img, gt_label=int(labels[i]),
                                     sample_idx=int(i)))
