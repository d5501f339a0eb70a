"""ImageClassifier, its head, neck, metric and augmentation steps."""
import random

import numpy as np
import pytest
import torch

import easymae  # noqa: F401
from easymae.datasets import PipelineDataset
from easymae.registry import (
    METRICS,
    MODELS,
    OPTIM_WRAPPER_CONSTRUCTORS,
    TRANSFORMS,
)


def tiny_backbone(**kw):
    cfg = dict(type='VisionTransformer', arch='tiny', embed_dim=32, depth=3,
               num_heads=2, img_size=16, patch_size=4, pos_embed='learned')
    cfg.update(kw)
    return cfg


def classifier(neck=None, head_kw=None, **kw):
    return MODELS.build(dict(
        type='ImageClassifier', backbone=tiny_backbone(**kw), neck=neck,
        head=dict(dict(type='LinearClsHead', num_classes=7, init_std=0.02),
                  **(head_kw or {}))))


def uint8_batch(n=4, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randint(0, 256, (n, 3, size, size), generator=g,
                         dtype=torch.uint8)
    return dict(inputs=imgs,
                data_samples=dict(gt_label=torch.arange(n) % 7))


@pytest.mark.parametrize('pool', ['avg', 'token'])
def test_forward_shapes_for_each_pooling(pool):
    model = classifier(global_pool=pool)
    data = model.data_preprocessor(uint8_batch(), True)
    feats = model(data['inputs'], mode='tensor')
    assert feats.shape == (4, 32)
    loss = model(**data, mode='loss')['loss']
    assert loss.ndim == 0 and torch.isfinite(loss)
    preds = model(**data, mode='predict')
    assert len(preds) == 4
    for p, label in zip(preds, data['data_samples']['gt_label']):
        assert p['pred_score'].shape == (7,)
        assert abs(float(p['pred_score'].sum()) - 1) < 1e-5
        assert p['pred_label'] == int(p['pred_score'].argmax())
        assert p['gt_label'] == int(label)
    # 'avg' pools patch tokens through fc_norm (no final norm), 'token'
    # takes the cls token after the final norm
    vit = model.backbone
    assert isinstance(vit.norm, torch.nn.Identity) == (pool == 'avg')


def test_head_losses_match_their_definitions():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='LinearClsHead', num_classes=5,
                             in_channels=8, init_std=0.5,
                             label_smoothing=0.1))
    feats = torch.randn(6, 8)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    logits = head(feats)
    logp = logits.log_softmax(-1)
    smooth = torch.full((6, 5), 0.1 / 5)
    smooth[torch.arange(6), labels] += 0.9
    hard = head.loss(feats, dict(gt_label=labels))
    assert torch.allclose(hard, -(smooth * logp).sum(-1).mean(), atol=1e-6)
    soft = torch.softmax(torch.randn(6, 5), -1)
    got = head.loss(feats, dict(gt_label=labels, gt_score=soft))
    assert torch.allclose(got, -(soft * logp).sum(-1).mean(), atol=1e-6)
    with pytest.raises(ValueError, match='out of range'):
        head.loss(feats, dict(gt_label=torch.tensor([9] * 6)))


def test_head_init_scale():
    head = MODELS.build(dict(type='LinearClsHead', num_classes=100,
                             in_channels=400, init_std=2e-5))
    assert float(head.fc.weight.detach().std()) == pytest.approx(2e-5, rel=0.1)
    assert float(head.fc.bias.detach().abs().max()) == 0.0


def test_accuracy_metric_against_numpy():
    rng = np.random.RandomState(0)
    n, k = 50, 10
    scores = rng.rand(n, k)
    labels = rng.randint(0, k, n)
    metric = METRICS.build(dict(type='Accuracy', topk=(1, 5)))
    metric.process(None, [dict(pred_score=torch.tensor(s), gt_label=int(y))
                          for s, y in zip(scores[:20], labels[:20])])
    metric.process(None, [dict(pred_score=torch.tensor(s), gt_label=int(y))
                          for s, y in zip(scores[20:], labels[20:])])
    got = metric.evaluate(n)
    order = np.argsort(-scores, axis=1)
    top1 = 100.0 * np.mean(order[:, 0] == labels)
    top5 = 100.0 * np.mean([labels[i] in order[i, :5] for i in range(n)])
    assert got['accuracy/top1'] == pytest.approx(top1)
    assert got['accuracy/top5'] == pytest.approx(top5)
    assert top1 < top5  # the two ks are really different here
    bad = METRICS.build(dict(type='Accuracy', topk=(1, 20)))
    bad.process(None, [dict(pred_score=torch.tensor(scores[0]),
                            gt_label=1)])
    with pytest.raises(ValueError, match='top-20'):
        bad.evaluate(1)


def _train_steps(model, steps=3, lr=1e-2):
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LayerDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(
            type='AdamW', lr=lr, weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay_rate=0.75)))(model)
    dataset = PipelineDataset(
        data_source=dict(type='Digits', split='train', img_size=16),
        pipeline=[dict(type='RandomResizedCrop', size=16, scale=(0.6, 1.0)),
                  dict(type='PackInputs')])
    loader = torch.utils.data.DataLoader(dataset, batch_size=16,
                                         shuffle=True, drop_last=True)
    model.train()
    for _, batch in zip(range(steps), loader):
        model.train_step(batch, wrapper)


@pytest.mark.parametrize('mode', ['linear_probe', 'partial'])
def test_frozen_parameters_do_not_change_in_training(mode):
    torch.manual_seed(0)
    if mode == 'linear_probe':
        model = classifier(global_pool='token', frozen_stages=3,
                           neck=dict(type='BatchNormNeck'),
                           head_kw=dict(num_classes=10))
        must_train = ('head.',)
    else:
        model = MODELS.build(dict(
            type='ImageClassifier', backbone=tiny_backbone(global_pool='avg'),
            head=dict(type='LinearClsHead', num_classes=10, init_std=0.02),
            train_last_blocks=1))
        must_train = ('backbone.blocks.2.', 'backbone.fc_norm.', 'head.')
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    _train_steps(model)
    after = model.state_dict()
    params = dict(model.named_parameters())
    for name, p in params.items():
        changed = not torch.equal(before[name], after[name])
        if name.startswith(must_train):
            assert p.requires_grad and changed, name
        else:
            assert not p.requires_grad and not changed, name
    if mode == 'linear_probe':
        # BatchNorm without affine: no parameters, but its statistics learn
        assert not list(model.neck.parameters())
        assert not torch.equal(before['neck.bn.running_mean'],
                               after['neck.bn.running_mean'])
    else:
        assert any(n.startswith('backbone.blocks.0.') for n in params)


def test_train_last_blocks_out_of_range_is_an_error():
    with pytest.raises(ValueError, match='train_last_blocks'):
        MODELS.build(dict(type='ImageClassifier', backbone=tiny_backbone(),
                          head=dict(type='LinearClsHead', num_classes=3),
                          train_last_blocks=4))


def test_rand_augment_step_keeps_uint8_and_changes_pixels():
    step = TRANSFORMS.build(dict(type='RandAugment',
                                 config_str='rand-m9-mstd0.5-inc1',
                                 img_size=32))
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (32, 32, 3)).astype(np.uint8)
    # timm's RandAugment draws its ops from numpy's global generator and
    # applies each from Python's: both seeded here, so the count does not
    # depend on which tests ran before in this process. Each of the 2 ops
    # applies with probability 0.5, so about 3 in 4 calls change the image
    random.seed(0)
    np.random.seed(0)
    changed = 0
    for _ in range(40):
        out = step(dict(img=img.copy()))['img']
        assert out.shape == img.shape and out.dtype == np.uint8
        changed += int(not np.array_equal(out, img))
    assert changed >= 20, changed
    with pytest.raises(ValueError, match='RandAugment'):
        TRANSFORMS.build(dict(type='RandAugment', config_str='m9'))


def test_random_erasing_fills_one_box_with_normalised_noise():
    mean, std = (100.0, 120.0, 140.0), (30.0, 30.0, 30.0)
    step = TRANSFORMS.build(dict(type='RandomErasing', prob=1.0,
                                 mode='pixel', mean=mean, std=std))
    img = np.zeros((64, 64, 3), dtype=np.uint8)
    out = step(dict(img=img.copy()))['img']
    box = out.any(axis=2)
    rows, cols = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
    assert box.sum() >= 0.02 * 64 * 64 * 0.9
    # one rectangle: everything inside its bounding box was overwritten
    inside = out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(float)
    assert inside.any(axis=2).mean() > 0.99
    assert np.allclose(inside.reshape(-1, 3).mean(0), mean, atol=6)
    assert np.allclose(inside.reshape(-1, 3).std(0), std, rtol=0.25)
    never = TRANSFORMS.build(dict(type='RandomErasing', prob=0.0))
    assert not never(dict(img=img.copy()))['img'].any()
