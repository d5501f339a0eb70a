"""Mixup / CutMix in ClsDataPreprocessor: targets sum to 1 per row and the
right pairs are mixed (timm's 'batch' mode pairs image i with N-1-i)."""
import pytest
import torch

import easymae  # noqa: F401
from easymae.registry import MODELS

K = 10
MEAN, STD = (127.5,) * 3, (50.0,) * 3


def preprocessor(**mixup):
    return MODELS.build(dict(type='ClsDataPreprocessor', mean=MEAN, std=STD,
                             num_classes=K, mixup=mixup))


def constant_batch(n=6, size=8):
    # image i is a flat grey of value 20 * (i + 1): a mixed pixel tells its
    # two sources apart
    values = torch.arange(1, n + 1) * 20
    imgs = values.view(n, 1, 1, 1).expand(n, 3, size, size)
    labels = torch.tensor([3, 1, 4, 1, 5, 9][:n])
    return dict(inputs=imgs.to(torch.uint8).contiguous(),
                data_samples=dict(gt_label=labels)), values.float(), labels


def normalised(v):
    return (v - MEAN[0]) / STD[0]


def test_mixup_mixes_mirror_pairs_and_targets():
    torch.manual_seed(0)
    smoothing = 0.1
    pre = preprocessor(mixup_alpha=0.8, cutmix_alpha=0.0, prob=1.0,
                       switch_prob=0.0, label_smoothing=smoothing)
    data, values, labels = constant_batch()
    out = pre(data, training=True)
    x, target = out['inputs'], out['data_samples']['gt_score']
    n = len(values)
    a, b = normalised(values), normalised(values.flip(0))
    # each output image is one constant: lam * own + (1 - lam) * mirror's
    pix = x[:, 0, 0, 0]
    assert torch.allclose(x, pix.view(n, 1, 1, 1).expand_as(x))
    lam = (pix - b) / (a - b)
    assert torch.allclose(lam, lam[0].expand(n), atol=1e-5)  # one per batch
    lam = float(lam[0])
    off, on = smoothing / K, 1 - smoothing + smoothing / K
    for i in range(n):
        expected = torch.full((K,), off)
        expected[labels[i]] += lam * (on - off)
        expected[labels[n - 1 - i]] += (1 - lam) * (on - off)
        assert torch.allclose(target[i], expected, atol=1e-5)
    assert torch.allclose(target.sum(1), torch.ones(n), atol=1e-5)
    assert torch.equal(out['data_samples']['gt_label'], labels)


def test_cutmix_pastes_mirror_box_and_targets_follow_its_area():
    torch.manual_seed(1)
    pre = preprocessor(mixup_alpha=0.0, cutmix_alpha=1.0, prob=1.0,
                       switch_prob=0.0, label_smoothing=0.0)
    for _ in range(5):
        data, values, labels = constant_batch(size=16)
        out = pre(data, training=True)
        x, target = out['inputs'], out['data_samples']['gt_score']
        n = len(values)
        own, mirror = normalised(values), normalised(values.flip(0))
        for i in range(n):
            img = x[i, 0]
            from_own = torch.isclose(img, own[i].expand_as(img))
            from_mirror = torch.isclose(img, mirror[i].expand_as(img))
            assert bool((from_own | from_mirror).all())
            pasted = from_mirror.float().mean().item()
            # the label weight of the mirror image is the pasted area
            expected = torch.zeros(K)
            expected[labels[i]] += 1 - pasted
            expected[labels[n - 1 - i]] += pasted
            assert torch.allclose(target[i], expected, atol=1e-5)
            assert abs(target[i].sum().item() - 1) < 1e-5


def test_no_mixing_in_evaluation():
    pre = preprocessor(mixup_alpha=0.8, cutmix_alpha=1.0)
    data, values, labels = constant_batch()
    out = pre(data, training=False)
    assert 'gt_score' not in out['data_samples']
    assert torch.allclose(out['inputs'][:, 0, 0, 0], normalised(values))


def test_odd_batch_is_a_clear_error():
    pre = preprocessor(mixup_alpha=0.8)
    data, _, _ = constant_batch(n=5)
    with pytest.raises(ValueError, match='drop_last'):
        pre(data, training=True)


def test_unknown_mixup_option_is_an_error():
    with pytest.raises(ValueError, match='mixup_alfa'):
        preprocessor(mixup_alfa=0.8)
