"""BYOL-style photometric transforms on RGB uint8 HxWx3 arrays.

The augmentations of the contrastive recipes (BYOL, MoCo v3, DINO): colour
jitter, grey scale, Gaussian blur and solarisation, each applied with a
probability. They follow torchvision's / PIL's definitions (luma weights,
the order-randomised jitter, PIL's solarise threshold) but work on the
numpy images the rest of the pipeline passes around.
"""
import random
from typing import Sequence, Tuple

import cv2
import numpy as np

from easymae.registry import TRANSFORMS

# ITU-R 601-2 luma, as PIL's convert('L') and torchvision's rgb_to_grayscale
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _check_prob(name: str, prob: float) -> float:
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f'{name}: prob must be in [0, 1], got {prob}')
    return prob


def _grey(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) float -> (H, W, 1) luma."""
    return (img * LUMA).sum(axis=-1, keepdims=True)


def _range(name: str, value: float, centre: float, bound: float
           ) -> Tuple[float, float]:
    if value < 0:
        raise ValueError(f'ColorJitter: {name} must be >= 0, got {value}')
    low, high = centre - value, centre + value
    if name == 'hue':
        if value > 0.5:
            raise ValueError(f'ColorJitter: hue must be in [0, 0.5], got '
                             f'{value}')
        return low, high
    return max(bound, low), high


@TRANSFORMS.register_module()
class ColorJitter:
    """Random brightness, contrast, saturation and hue, in a random order
    (torchvision's ``ColorJitter``), applied with probability ``prob``.

    Factors are drawn from ``[1 - x, 1 + x]`` (hue: a shift in
    ``[-hue, hue]`` of the colour wheel). BYOL / MoCo v3 / DINO use
    ``(0.4, 0.4, 0.2, 0.1)`` with ``prob=0.8``.
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0,
                 saturation: float = 0.0, hue: float = 0.0,
                 prob: float = 1.0):
        self.ranges = dict(
            brightness=_range('brightness', brightness, 1.0, 0.0),
            contrast=_range('contrast', contrast, 1.0, 0.0),
            saturation=_range('saturation', saturation, 1.0, 0.0),
            hue=_range('hue', hue, 0.0, -0.5))
        self.prob = _check_prob('ColorJitter', prob)

    @staticmethod
    def adjust(img: np.ndarray, name: str, factor: float) -> np.ndarray:
        """One adjustment of a float image on the 0..255 scale."""
        if name == 'brightness':
            out = img * factor
        elif name == 'contrast':
            mean = _grey(img).mean()
            out = (img - mean) * factor + mean
        elif name == 'saturation':
            grey = _grey(img)
            out = (img - grey) * factor + grey
        else:  # hue: rotate H in HSV (opencv's float H is in degrees)
            hsv = cv2.cvtColor(np.clip(img, 0, 255) / 255.0,
                               cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0] + factor * 360.0) % 360.0
            out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
        return np.clip(out, 0, 255)

    def __call__(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        img = results['img'].astype(np.float32)
        names = list(self.ranges)
        random.shuffle(names)
        for name in names:
            low, high = self.ranges[name]
            if (name == 'hue' and low == high == 0.0) or \
                    (name != 'hue' and low == high == 1.0):
                continue
            img = self.adjust(img, name, random.uniform(low, high))
        results['img'] = np.round(img).astype(np.uint8)
        return results

    def __repr__(self):
        return f'ColorJitter(ranges={self.ranges}, prob={self.prob})'


@TRANSFORMS.register_module()
class RandomGrayscale:
    """With probability ``prob``, replace RGB by its luma on all three
    channels (the shape stays HxWx3)."""

    def __init__(self, prob: float = 0.2):
        self.prob = _check_prob('RandomGrayscale', prob)

    def __call__(self, results: dict) -> dict:
        if random.random() < self.prob:
            grey = np.round(_grey(results['img'].astype(np.float32)))
            results['img'] = np.repeat(grey, 3, axis=2).astype(np.uint8)
        return results

    def __repr__(self):
        return f'RandomGrayscale(prob={self.prob})'


@TRANSFORMS.register_module()
class GaussianBlur:
    """With probability ``prob``, blur with sigma drawn from
    ``[sigma_min, sigma_max]`` pixels (BYOL: 0.1..2.0; the kernel size
    follows sigma, as PIL's ``GaussianBlur(radius=sigma)`` the MoCo v3 and
    DINO loaders use)."""

    def __init__(self, sigma: Sequence[float] = (0.1, 2.0),
                 prob: float = 0.5):
        if len(sigma) != 2 or not 0 < sigma[0] <= sigma[1]:
            raise ValueError(f'GaussianBlur: sigma must be (min, max) with '
                             f'0 < min <= max, got {sigma}')
        self.sigma = (float(sigma[0]), float(sigma[1]))
        self.prob = _check_prob('GaussianBlur', prob)

    def __call__(self, results: dict) -> dict:
        if random.random() < self.prob:
            s = random.uniform(*self.sigma)
            results['img'] = cv2.GaussianBlur(results['img'], (0, 0),
                                              sigmaX=s, sigmaY=s)
        return results

    def __repr__(self):
        return f'GaussianBlur(sigma={self.sigma}, prob={self.prob})'


@TRANSFORMS.register_module()
class Solarize:
    """With probability ``prob``, invert every pixel value >= ``threshold``
    (PIL's ``ImageOps.solarize``, threshold 128)."""

    def __init__(self, threshold: int = 128, prob: float = 0.2):
        if not 0 <= threshold <= 256:
            raise ValueError(f'Solarize: threshold must be in [0, 256], got '
                             f'{threshold}')
        self.threshold = int(threshold)
        self.prob = _check_prob('Solarize', prob)

    def __call__(self, results: dict) -> dict:
        if random.random() < self.prob:
            img = results['img']
            results['img'] = np.where(img >= self.threshold, 255 - img,
                                      img).astype(np.uint8)
        return results

    def __repr__(self):
        return f'Solarize(threshold={self.threshold}, prob={self.prob})'
