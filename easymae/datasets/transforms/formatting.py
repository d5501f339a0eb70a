"""Pack a transformed sample into what the model's data preprocessor takes."""
import numpy as np
import torch

from easymae.registry import TRANSFORMS


def _chw(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackInputs:
    """``img`` (HxWx3 uint8) -> ``inputs`` (3xHxW uint8 tensor); a list of
    views (``MultiView``) -> a list of such tensors.

    Pixels stay uint8 until the data preprocessor normalises them on the
    device: a quarter of the host-to-device traffic of float32.
    Everything in ``meta_keys`` that the sample has goes to ``data_samples``
    (labels, and tensors made by earlier steps such as a SimMIM mask).
    """

    def __init__(self, meta_keys=('gt_label', 'sample_idx')):
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        # MultiView leaves a list of views: packed as a list of tensors
        inputs = [_chw(v) for v in img] if isinstance(img, list) \
            else _chw(img)
        data_samples = {k: results[k] for k in self.meta_keys if k in results}
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self):
        return f'PackInputs(meta_keys={self.meta_keys})'
