"""Random erasing (Zhong et al. 2017) on uint8 RGB arrays, as a pipeline step.

timm's ``RandomErasing`` runs on normalised float tensors; its 'pixel' mode
fills the box with N(0, 1) noise per pixel and channel, which in pixel space
is ``mean + std * N(0, 1)``. We do exactly that here on the uint8 array
(before ``PackInputs``) and clip to 0..255, the one difference: it keeps the
pipeline uint8 end to end and the step next to RandAugment, where MAE's
recipe has it. The box sampling is timm's: area 2%..1/3 of the image, log-
uniform aspect ratio in (0.3, 1/0.3), up to 10 tries, one box.
"""
import math
import random

import numpy as np

from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomErasing:
    """Args:
        prob: chance an image gets a box (MAE: 0.25).
        mode: 'pixel' (noise per pixel), 'rand' (one noise colour per box) or
            'const' (the mean colour; zero after normalisation).
        min_area, max_area: box area as a share of the image.
        min_aspect: aspect ratio in (min_aspect, 1 / min_aspect).
        mean, std: the normalisation the model uses (0..255 scale).
    """

    def __init__(self, prob: float = 0.25, mode: str = 'pixel',
                 min_area: float = 0.02, max_area: float = 1 / 3,
                 min_aspect: float = 0.3, mean=IMAGENET_MEAN,
                 std=IMAGENET_STD):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomErasing: prob must be in [0, 1], got '
                             f'{prob}')
        if mode not in ('pixel', 'rand', 'const'):
            raise ValueError(f"RandomErasing: mode must be 'pixel', 'rand' "
                             f"or 'const', got {mode!r}")
        if not 0.0 < min_area <= max_area <= 1.0:
            raise ValueError(f'RandomErasing: need 0 < min_area <= max_area '
                             f'<= 1, got {min_area}, {max_area}')
        self.prob, self.mode = prob, mode
        self.min_area, self.max_area = min_area, max_area
        self.log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    def _fill(self, h: int, w: int, c: int) -> np.ndarray:
        if self.mode == 'pixel':
            noise = np.random.standard_normal((h, w, c))
        elif self.mode == 'rand':
            noise = np.random.standard_normal((1, 1, c))
        else:
            noise = np.zeros((1, 1, c))
        values = self.mean[:c] + self.std[:c] * noise
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)

    def __call__(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        img = results['img']
        h, w = img.shape[:2]
        c = img.shape[2] if img.ndim == 3 else 1
        area = h * w
        for _ in range(10):
            target = random.uniform(self.min_area, self.max_area) * area
            aspect = math.exp(random.uniform(*self.log_aspect))
            eh = int(round(math.sqrt(target * aspect)))
            ew = int(round(math.sqrt(target / aspect)))
            if 0 < eh < h and 0 < ew < w:
                top = random.randint(0, h - eh)
                left = random.randint(0, w - ew)
                img = img.copy()
                fill = self._fill(eh, ew, c)
                if img.ndim == 2:
                    fill = fill[:, :, 0]
                img[top:top + eh, left:left + ew] = fill
                results['img'] = img
                break
        return results

    def __repr__(self):
        return f'RandomErasing(prob={self.prob}, mode={self.mode!r})'
