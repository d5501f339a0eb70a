"""Pipeline steps on real pixels."""
import random

import numpy as np
import pytest
import torch

from easymae.datasets import PipelineDataset
from easymae.datasets.transforms import (
    CenterCrop,
    PackInputs,
    RandomHorizontalFlip,
    RandomResizedCrop,
    Resize,
)


@pytest.fixture
def photo():
    from sklearn.datasets import load_sample_image
    return load_sample_image('flower.jpg')  # a real 427x640 RGB photo


def test_random_resized_crop_size_and_area(photo):
    random.seed(0)
    rrc = RandomResizedCrop(32, scale=(0.2, 1.0))
    areas = []
    for _ in range(50):
        top, left, h, w = rrc.get_params(*photo.shape[:2])
        assert 0 <= top and top + h <= photo.shape[0]
        assert 0 <= left and left + w <= photo.shape[1]
        areas.append(h * w / (photo.shape[0] * photo.shape[1]))
        ratio = w / h
        assert 3 / 4 * 0.9 <= ratio <= 4 / 3 * 1.1
    assert min(areas) >= 0.18 and max(areas) <= 1.0
    out = rrc(dict(img=photo))['img']
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8


def test_random_resized_crop_bad_scale():
    with pytest.raises(ValueError, match='scale'):
        RandomResizedCrop(32, scale=(0.5, 0.2))


def test_flip_resize_center_crop(photo):
    flipped = RandomHorizontalFlip(prob=1.0)(dict(img=photo))['img']
    np.testing.assert_array_equal(flipped, photo[:, ::-1])
    kept = RandomHorizontalFlip(prob=0.0)(dict(img=photo))['img']
    np.testing.assert_array_equal(kept, photo)
    short = Resize(64)(dict(img=photo))['img']
    assert short.shape[0] == 64 and short.shape[1] == round(640 * 64 / 427)
    crop = CenterCrop(48)(dict(img=short))['img']
    assert crop.shape == (48, 48, 3)
    with pytest.raises(ValueError, match='larger than the image'):
        CenterCrop(100)(dict(img=short))


def test_pack_inputs_keeps_uint8_channels_first(photo):
    out = PackInputs()(dict(img=photo, gt_label=3, img_path='x'))
    assert out['inputs'].dtype == torch.uint8
    assert out['inputs'].shape == (3, 427, 640)
    assert torch.equal(out["inputs"][1],
                       torch.from_numpy(photo[:, :, 1].copy()))
    assert out['data_samples'] == {'gt_label': 3}


def test_dataset_batches_through_default_collate():
    from torch.utils.data import DataLoader
    from torch.utils.data._utils.collate import default_collate
    ds = PipelineDataset(dict(type='Digits', split='val', img_size=16),
                         [dict(type='RandomResizedCrop', size=16,
                               scale=(0.5, 1.0)),
                          dict(type='PackInputs')])
    assert ds.metainfo['classes'][0] == '0'
    batch = next(iter(DataLoader(ds, batch_size=4,
                                 collate_fn=default_collate)))
    assert batch['inputs'].shape == (4, 3, 16, 16)
    assert batch['data_samples']['gt_label'].shape == (4,)
