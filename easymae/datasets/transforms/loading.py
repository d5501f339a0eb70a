"""Decode an image file into an RGB uint8 HxWx3 array."""
import os.path as osp

import cv2
import numpy as np
from PIL import Image

from easymae.registry import TRANSFORMS


class BadImageError(ValueError):
    """An image file that is missing, empty, truncated or not an image."""


def read_image(path: str, backend: str = 'cv2') -> np.ndarray:
    """Return the RGB uint8 HxWx3 pixels of ``path`` or raise BadImageError."""
    if not osp.isfile(path):
        raise BadImageError(f'image file not found: {path!r}')
    if osp.getsize(path) == 0:
        raise BadImageError(f'image file is empty (0 bytes): {path!r}')
    if backend == 'cv2':
        buf = np.fromfile(path, dtype=np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if img is None:
            raise BadImageError(f'cannot decode image file {path!r} (opencv)')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if backend == 'pillow':
        try:
            with Image.open(path) as im:
                # load() reads every byte, so a truncated file fails here
                # rather than yielding a half-grey image later.
                im.load()
                return np.asarray(im.convert('RGB'))
        except (OSError, SyntaxError, ValueError) as e:
            raise BadImageError(f'cannot decode image file {path!r} '
                                f'(pillow): {e}') from e
    raise ValueError(f"LoadImage: backend must be 'cv2' or 'pillow', got "
                     f'{backend!r}')


@TRANSFORMS.register_module()
class LoadImage:
    """Decode ``results['img_path']`` into ``results['img']``.

    Samples that already carry pixels (``img``, e.g. from ``Digits`` or
    ``CIFAR10``) pass through, so one pipeline serves file and array sources.
    opencv's decoder is the default: it is faster than pillow's here, and a
    truncated JPEG fails loudly instead of being padded with grey.
    """

    def __init__(self, backend: str = 'cv2'):
        if backend not in ('cv2', 'pillow'):
            raise ValueError(f"LoadImage: backend must be 'cv2' or 'pillow', "
                             f'got {backend!r}')
        self.backend = backend

    def __call__(self, results: dict) -> dict:
        if results.get('img') is None:
            results['img'] = read_image(results['img_path'], self.backend)
        results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self):
        return f'LoadImage(backend={self.backend!r})'
