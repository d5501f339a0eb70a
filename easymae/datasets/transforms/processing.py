"""Geometric transforms on RGB uint8 HxWx3 arrays (opencv based)."""
import math
import random
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

from easymae.registry import TRANSFORMS
from .loading import PendingJpeg

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    'lanczos': cv2.INTER_LANCZOS4,
}


def _to_hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'size must be an int or (h, w), got {size!r}')
    return int(size[0]), int(size[1])


def _interp(name: str) -> int:
    if name not in INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of '
                         f'{sorted(INTERPOLATIONS)}, got {name!r}')
    return INTERPOLATIONS[name]


def resize(img: np.ndarray, hw: Tuple[int, int], interpolation: str):
    h, w = hw
    if img.shape[0] == h and img.shape[1] == w:
        return img
    flag = _interp(interpolation)
    # Shrinking 2x or more with cubic/linear aliases; area averaging is
    # closer to PIL's antialiased resize. Below 2x the cubic kernel aliases
    # little and is ~5x faster than opencv's fractional area resize
    # (measured: 0.2 vs 1.6 ms for a 350 px crop to 224 px).
    if (h * 2 <= img.shape[0] and w * 2 <= img.shape[1]
            and interpolation != 'nearest'):
        flag = cv2.INTER_AREA
    return cv2.resize(img, (w, h), interpolation=flag)


@TRANSFORMS.register_module()
class RandomResizedCrop:
    """Crop a random area and aspect ratio, resize to ``size``.

    Same sampling as torchvision's (10 tries, then a centre crop clamped to
    ``ratio``); pixels stay uint8 and the resize is opencv's.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3. / 4., 4. / 3.),
                 interpolation: str = 'bicubic'):
        self.size = _to_hw(size)
        if not (0 < scale[0] <= scale[1] <= 1.0):
            raise ValueError(f'RandomResizedCrop: scale must satisfy '
                             f'0 < min <= max <= 1, got {scale}')
        if not (0 < ratio[0] <= ratio[1]):
            raise ValueError(f'RandomResizedCrop: bad ratio {ratio}')
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        _interp(interpolation)
        self.interpolation = interpolation

    def get_params(self, h: int, w: int) -> Tuple[int, int, int, int]:
        area = h * w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * random.uniform(*self.scale)
            aspect = math.exp(random.uniform(*log_ratio))
            cw = int(round(math.sqrt(target_area * aspect)))
            ch = int(round(math.sqrt(target_area / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                top = random.randint(0, h - ch)
                left = random.randint(0, w - cw)
                return top, left, ch, cw
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def decode_factor(self, ch: int, cw: int) -> int:
        """Largest JPEG scale-down (8, 4, 2) keeping the crop >= output."""
        for f in (8, 4, 2):
            if ch // f >= self.size[0] and cw // f >= self.size[1]:
                return f
        return 1

    def __call__(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self.get_params(*img.shape[:2])
        if isinstance(img, PendingJpeg):  # LoadImage(lazy=True)
            f = self.decode_factor(ch, cw)
            h, w = img.shape[:2]
            pixels = img.decode(f)
            if pixels.shape[:2] != (-(-h // f), -(-w // f)):
                f, pixels = 1, img.decode(1)  # header lied: use full size
            top, left, ch, cw = top // f, left // f, ch // f, cw // f
            img = pixels
        crop = img[top:top + ch, left:left + cw]
        results['img'] = resize(crop, self.size, self.interpolation)
        return results

    def __repr__(self):
        return (f'RandomResizedCrop(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class RandomHorizontalFlip:

    def __init__(self, prob: float = 0.5):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomHorizontalFlip: prob must be in [0, 1], '
                             f'got {prob}')
        self.prob = prob

    def __call__(self, results: dict) -> dict:
        if random.random() < self.prob:
            results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        return results

    def __repr__(self):
        return f'RandomHorizontalFlip(prob={self.prob})'


@TRANSFORMS.register_module()
class Resize:
    """Resize to (h, w), or the shorter side to ``size`` when it is an int
    (the evaluation habit: resize 256, centre-crop 224)."""

    def __init__(self, size, interpolation: str = 'bicubic'):
        self.size = size
        _interp(interpolation)
        self.interpolation = interpolation

    def __call__(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if isinstance(self.size, int):
            if h <= w:
                hw = (self.size, max(1, int(round(w * self.size / h))))
            else:
                hw = (max(1, int(round(h * self.size / w))), self.size)
        else:
            hw = _to_hw(self.size)
        results['img'] = resize(img, hw, self.interpolation)
        return results

    def __repr__(self):
        return (f'Resize(size={self.size}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class CenterCrop:

    def __init__(self, size):
        self.size = _to_hw(size)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        ch, cw = self.size
        if ch > h or cw > w:
            raise ValueError(f'CenterCrop: crop {self.size} is larger than '
                             f'the image {(h, w)}; resize first')
        top, left = (h - ch) // 2, (w - cw) // 2
        results['img'] = img[top:top + ch, left:left + cw]
        return results

    def __repr__(self):
        return f'CenterCrop(size={self.size})'
