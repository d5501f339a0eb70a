"""The BYOL photometric transforms and MultiView on real images."""
import numpy as np
import pytest

from easymae.datasets.sources import Digits
from easymae.datasets.transforms import (
    ColorJitter,
    GaussianBlur,
    MultiView,
    RandomGrayscale,
    Solarize,
)


def _image():
    img = Digits(split='val', img_size=32).samples[0]['img'].copy()
    img[..., 0] = 255 - img[..., 0]  # a colour image from a real digit
    return img


def test_solarize_inverts_at_and_above_the_threshold():
    img = _image()
    out = Solarize(threshold=128, prob=1.0)(dict(img=img.copy()))['img']
    high = img >= 128
    assert high.any() and (~high).any()
    assert np.array_equal(out[high], 255 - img[high])
    assert np.array_equal(out[~high], img[~high])
    assert np.array_equal(Solarize(prob=0.0)(dict(img=img))['img'], img)


def test_grayscale_is_the_luma_on_three_channels():
    img = _image()
    out = RandomGrayscale(prob=1.0)(dict(img=img.copy()))['img']
    luma = img.astype(np.float64) @ [0.299, 0.587, 0.114]
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out[..., 0] - luma).max() <= 0.5 + 1e-6
    assert np.array_equal(out[..., 0], out[..., 2])


def test_blur_smooths_and_keeps_the_mean():
    img = _image()
    out = GaussianBlur(sigma=(1.5, 1.5), prob=1.0)(dict(img=img))['img']

    def curvature(x):
        return np.abs(np.diff(x.astype(float), n=2, axis=1)).mean()

    assert curvature(out) < 0.8 * curvature(img)
    assert abs(out.mean() - img.mean()) < 2.0
    # sigma 0.1 is all but the identity
    tiny = GaussianBlur(sigma=(0.1, 0.1), prob=1.0)(dict(img=img))['img']
    assert np.abs(tiny.astype(int) - img).max() <= 1


def test_jitter_adjustments():
    img = _image().astype(np.float32)
    bright = ColorJitter.adjust(img, 'brightness', 0.5)
    assert np.allclose(bright, img * 0.5)
    grey = ColorJitter.adjust(img, 'saturation', 0.0)
    assert np.allclose(grey[..., 0], grey[..., 1], atol=1e-3)
    flat = ColorJitter.adjust(img, 'contrast', 0.0)
    assert np.ptp(flat) < 1e-3
    same = ColorJitter.adjust(img, 'hue', 0.0)
    assert np.abs(same - img).max() < 0.5
    shifted = ColorJitter.adjust(img, 'hue', 0.25)
    assert np.abs(shifted - img).max() > 50
    out = ColorJitter(0.4, 0.4, 0.2, 0.1, prob=1.0)(
        dict(img=_image()))['img']
    assert out.dtype == np.uint8 and out.shape == (32, 32, 3)
    with pytest.raises(ValueError, match='hue must be in'):
        ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        GaussianBlur(prob=2.0)


def test_multiview_makes_the_views_in_order():
    views = MultiView(
        pipelines=[[dict(type='RandomResizedCrop', size=32)],
                   [dict(type='RandomResizedCrop', size=16)]],
        num_views=[2, 3])(dict(img=_image(), gt_label=3))
    assert [v.shape for v in views['img']] == [(32, 32, 3)] * 2 + \
        [(16, 16, 3)] * 3
    assert views['gt_label'] == 3
    assert not np.array_equal(views['img'][0], views['img'][1])
    with pytest.raises(ValueError, match='transform lists'):
        MultiView(pipelines=[dict(type='Solarize')])
    with pytest.raises(ValueError, match='num_views'):
        MultiView(pipelines=[[]], num_views=[0])
