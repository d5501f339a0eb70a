"""timm's RandAugment as a pipeline step on our uint8 RGB arrays.

timm's ``rand_augment_transform`` works on PIL images; this step converts
the HxWx3 uint8 array to PIL and back, so it sits anywhere in a pipeline
between loading and ``PackInputs``. MAE's finetune uses
``'rand-m9-mstd0.5-inc1'``: 2 ops per image, magnitude 9 with noise std 0.5,
"increasing" magnitude variants.
"""
import numpy as np
from PIL import Image
from timm.data.auto_augment import posterize, rand_augment_transform

from easymae.registry import TRANSFORMS
from .processing import _to_hw


def _posterize_any_bits(img, bits_to_keep, **kwargs):
    # 'PosterizeIncreasing' at magnitude 10 (reached by m9/m10 plus noise)
    # asks for 0 bits; Pillow >= 11 refuses that (it used to return black).
    # Keep the old result instead of crashing a DataLoader worker.
    if bits_to_keep <= 0:
        return Image.new(img.mode, img.size)
    return posterize(img, bits_to_keep, **kwargs)


@TRANSFORMS.register_module()
class RandAugment:
    """Args:
        config_str: timm's RandAugment spec, e.g. 'rand-m9-mstd0.5-inc1'.
        img_size: the training crop size; translations reach 45% of it, as
            in timm's ``create_transform``.
        img_mean: fill colour for pixels that geometric ops uncover (RGB,
            0..255); ImageNet's mean by default, as timm.
        interpolation: 'bicubic' (timm's training default) or 'bilinear'.
    """

    def __init__(self, config_str: str = 'rand-m9-mstd0.5-inc1',
                 img_size=224, img_mean=(124, 116, 104),
                 interpolation: str = 'bicubic'):
        if not isinstance(config_str, str) or not config_str.startswith(
                'rand'):
            raise ValueError(f"RandAugment: config_str must look like "
                             f"'rand-m9-mstd0.5-inc1', got {config_str!r}")
        if interpolation not in ('bicubic', 'bilinear'):
            raise ValueError(f"RandAugment: interpolation must be 'bicubic' "
                             f"or 'bilinear', got {interpolation!r}")
        h, w = _to_hw(img_size)
        hparams = dict(translate_const=int(min(h, w) * 0.45),
                       img_mean=tuple(int(round(c)) for c in img_mean),
                       interpolation=(Image.BICUBIC if interpolation ==
                                      'bicubic' else Image.BILINEAR))
        self.config_str = config_str
        try:
            self.transform = rand_augment_transform(config_str, hparams)
        except Exception as e:  # timm asserts on unknown sections
            raise ValueError(f'RandAugment: cannot parse {config_str!r}: '
                             f'{e}') from e
        for op in self.transform.ops:
            if op.aug_fn is posterize:
                op.aug_fn = _posterize_any_bits

    def __call__(self, results: dict) -> dict:
        img = results['img']
        out = self.transform(Image.fromarray(img))
        results['img'] = np.asarray(out.convert('RGB'), dtype=np.uint8).copy()
        return results

    def __repr__(self):
        return f'RandAugment({self.config_str!r})'
