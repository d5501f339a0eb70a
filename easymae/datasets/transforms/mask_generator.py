"""SimMIM's random block mask, drawn per sample in the data pipeline.

SimMIM masks square blocks of ``mask_patch_size`` pixels (32 by default, two
ViT-B/16 patches a side): a random subset of the coarse grid is chosen and
every coarse cell is then spread over the model's finer patch grid. The
reference draws the subset with ``np.random.permutation`` and masks exactly
``ceil(ratio * cells)`` cells; we do the same, so a seeded data loader masks
like the reference one.
"""
import math
from typing import Sequence, Tuple, Union

import numpy as np

from easymae.registry import TRANSFORMS


def _to_hw(size: Union[int, Sequence[int]], what: str) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'SimMIMMaskGenerator: {what} must be an int or '
                         f'(h, w), got {size!r}')
    return int(size[0]), int(size[1])


@TRANSFORMS.register_module()
class SimMIMMaskGenerator:
    """Write ``results['mask']``: a (h, w) uint8 array on the model's patch
    grid, 1 = masked, made of whole ``mask_patch_size`` blocks.

    Put it after the crop and before ``PackInputs(meta_keys=('mask', ...))``;
    the default collate then stacks the masks into ``data_samples['mask']``.

    Args:
        input_size: the image side(s) the model sees (after cropping).
        mask_patch_size: side of a masked block in pixels.
        model_patch_size: the backbone's patch size.
        mask_ratio: share of blocks masked, in (0, 1); the count is
            ``ceil(mask_ratio * blocks)``, as in the reference.
    """

    def __init__(self, input_size: Union[int, Sequence[int]] = 224,
                 mask_patch_size: int = 32, model_patch_size: int = 16,
                 mask_ratio: float = 0.6):
        self.input_size = _to_hw(input_size, 'input_size')
        if mask_patch_size <= 0 or model_patch_size <= 0:
            raise ValueError(
                f'SimMIMMaskGenerator: patch sizes must be positive, got '
                f'mask_patch_size={mask_patch_size}, '
                f'model_patch_size={model_patch_size}')
        for side in self.input_size:
            if side % mask_patch_size:
                raise ValueError(
                    f'SimMIMMaskGenerator: input_size {input_size} is not '
                    f'divisible by mask_patch_size {mask_patch_size}')
        if mask_patch_size % model_patch_size:
            raise ValueError(
                f'SimMIMMaskGenerator: mask_patch_size {mask_patch_size} is '
                f'not divisible by model_patch_size {model_patch_size}')
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'SimMIMMaskGenerator: mask_ratio must be in '
                             f'(0, 1), got {mask_ratio}')
        self.mask_patch_size = mask_patch_size
        self.model_patch_size = model_patch_size
        self.mask_ratio = mask_ratio
        self.rand_size = (self.input_size[0] // mask_patch_size,
                          self.input_size[1] // mask_patch_size)
        self.scale = mask_patch_size // model_patch_size
        self.token_count = self.rand_size[0] * self.rand_size[1]
        self.mask_count = int(math.ceil(self.token_count * mask_ratio))

    def generate(self) -> np.ndarray:
        mask_idx = np.random.permutation(self.token_count)[:self.mask_count]
        mask = np.zeros(self.token_count, dtype=np.uint8)
        mask[mask_idx] = 1
        mask = mask.reshape(self.rand_size)
        # one coarse cell -> scale x scale model patches
        return mask.repeat(self.scale, axis=0).repeat(self.scale, axis=1)

    def __call__(self, results: dict) -> dict:
        img = results.get('img')
        if img is not None and tuple(img.shape[:2]) != self.input_size:
            # a mask for another size would silently misalign with the patches
            raise ValueError(
                f'SimMIMMaskGenerator: image is {tuple(img.shape[:2])} but '
                f'input_size is {self.input_size}; crop or resize to '
                f'input_size before this step'
                + (f" ({results['img_path']})" if 'img_path' in results
                   else ''))
        results['mask'] = self.generate()
        return results

    def __repr__(self):
        return (f'SimMIMMaskGenerator(input_size={self.input_size}, '
                f'mask_patch_size={self.mask_patch_size}, '
                f'model_patch_size={self.model_patch_size}, '
                f'mask_ratio={self.mask_ratio})')
