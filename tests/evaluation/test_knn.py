"""Weighted kNN on frozen features (DINO's evaluation): the vote by hand,
high accuracy on separable real images and chance on shuffled labels, a
clear refusal of a bank over the memory limit, and the tool end to end on
a MoCo v3 checkpoint (base or momentum encoder)."""
import math
import os.path as osp

import pytest
import torch

from easymae.datasets.sources import Digits
from easymae.evaluation.knn import (
    KNNBankTooLarge,
    check_bank_size,
    knn_accuracy,
    knn_scores,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIGITS_MOCO = osp.join(REPO, 'configs', 'selfsup', 'mocov3',
                       'mocov3_vit-tiny-d6-p4_1xb64-30e_digits.py')


def test_vote_weights_by_hand():
    bank = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[2.0, 0.0]])  # normalised to (1, 0)
    scores = knn_scores(bank, labels, query, num_classes=2, k=2,
                        temperature=0.5)
    # neighbours: sim 1.0 (class 0) and 0.8 (class 1); the third is out
    expected = torch.tensor([[math.exp(1.0 / 0.5), math.exp(0.8 / 0.5)]])
    assert torch.allclose(scores, expected)
    # k=3 adds exp(0 / 0.5) = 1 to class 1
    scores = knn_scores(bank, labels, query, num_classes=2, k=3,
                        temperature=0.5)
    assert torch.allclose(scores[0, 1], expected[0, 1] + 1.0)


def _digit_pixels(split):
    src = Digits(split=split, img_size=8)
    x = torch.stack([torch.from_numpy(s['img'][:, :, 0]).float().flatten()
                     for s in src.samples])
    y = torch.tensor([s['gt_label'] for s in src.samples])
    return x - x.mean(), y


def test_real_digits_are_separable_and_shuffled_labels_are_chance():
    train_x, train_y = _digit_pixels('train')
    val_x, val_y = _digit_pixels('val')
    acc = knn_accuracy(train_x, train_y, val_x, val_y, num_classes=10)
    assert acc['top1'] > 90.0
    assert acc['top5'] >= acc['top1']
    gen = torch.Generator().manual_seed(0)
    shuffled = train_y[torch.randperm(len(train_y), generator=gen)]
    acc = knn_accuracy(train_x, shuffled, val_x, val_y, num_classes=10)
    assert 2.0 < acc['top1'] < 20.0  # chance is 10%


def test_bank_over_the_limit_is_refused_with_its_size():
    with pytest.raises(KNNBankTooLarge, match=r'1281167 x 768 .*3\.67 GiB'):
        check_bank_size(1281167, 768, 2 * 2 ** 30)
    assert check_bank_size(10, 4, 1000) == 160
    feats = torch.randn(100, 16)
    with pytest.raises(KNNBankTooLarge, match='100 x 16'):
        knn_scores(feats, torch.zeros(100), feats, 2, max_bank_bytes=1000)


def test_bad_arguments_are_errors():
    feats = torch.randn(4, 3)
    with pytest.raises(ValueError, match='k must be'):
        knn_scores(feats, torch.zeros(4), feats, 2, k=0)
    with pytest.raises(ValueError, match='4 train features but 3 labels'):
        knn_scores(feats, torch.zeros(3), feats, 2)


def _moco_checkpoint(tmp_path):
    """A (random-weight) MoCo v3 model of the digits config, saved as
    training would; the momentum encoder made different from the base."""
    from easymae.apis import load_config
    from easymae.registry import MODELS
    cfg = load_config(DIGITS_MOCO, {'model.backbone.depth': 1})
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for p in model.momentum_encoder.parameters():
            p.add_(0.5)
    path = tmp_path / 'moco.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path, model


def test_tool_scores_either_encoder_and_names_a_bad_prefix(tmp_path,
                                                          capsys):
    import runpy
    tool = runpy.run_path(osp.join(REPO, 'tools', 'knn_eval.py'))
    path, _ = _moco_checkpoint(tmp_path)
    args = [DIGITS_MOCO, str(path), '--cfg-options',
            'model.backbone.depth=1']
    base = tool['main'](args)
    momentum = tool['main'](args + ['--prefix',
                                    'momentum_encoder.backbone.'])
    # random features of real digits are still far above chance, and the
    # two encoders hold different weights, so their scores differ
    assert base['top1'] > 30.0 and momentum['top1'] > 10.0
    assert base != momentum
    assert 'kNN (k=20, T=0.07)' in capsys.readouterr().out
    assert tool['_main'](args + ['--prefix', 'teacher.backbone.']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error:') and "'teacher.backbone.'" in err \
        and str(path) in err
    assert tool['_main'](args + ['--max-bank-gb', '1e-4']) == 1
    assert '1438 x 192' in capsys.readouterr().err
