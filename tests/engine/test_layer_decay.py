"""Layer-wise lr decay: every parameter's group against MAE's formula, and
the ratios kept by mmengine's warm-up + cosine schedulers."""
import math

import pytest
import torch
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

import easymae  # noqa: F401
from easymae.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

DEPTH = 3


def tiny_classifier(**backbone):
    cfg = dict(type='VisionTransformer', arch='tiny', embed_dim=32,
               depth=DEPTH, num_heads=2, img_size=16, patch_size=4,
               global_pool='avg', pos_embed='learned')
    cfg.update(backbone)
    return MODELS.build(dict(
        type='ImageClassifier', backbone=cfg,
        head=dict(type='LinearClsHead', num_classes=5)))


def build_wrapper(model, lr=1e-3, wd=0.05, decay=0.7):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LayerDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=lr, weight_decay=wd)),
        paramwise_cfg=dict(layer_decay_rate=decay)))
    return constructor(model)


def expected_layer_id(name):
    """MAE's util/lr_decay.py rule, written out from the names."""
    if name.startswith(('backbone.patch_embed', 'backbone.cls_token',
                        'backbone.pos_embed')):
        return 0
    if name.startswith('backbone.blocks.'):
        return int(name.split('.')[2]) + 1
    return DEPTH + 1


def test_every_parameter_gets_mae_lr_scale_and_weight_decay():
    model = tiny_classifier()
    base_lr, wd, decay = 1e-3, 0.05, 0.7
    wrapper = build_wrapper(model, base_lr, wd, decay)
    group_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            assert id(p) not in group_of, 'a parameter is in two groups'
            group_of[id(p)] = group
    named = dict(model.named_parameters())
    assert 'backbone.pos_embed' in named and 'head.fc.weight' in named
    for name, p in named.items():
        group = group_of[id(p)]
        layer_id = expected_layer_id(name)
        assert math.isclose(group['lr'],
                            base_lr * decay ** (DEPTH + 1 - layer_id),
                            rel_tol=1e-12), name
        no_wd = p.ndim == 1 or name in ('backbone.pos_embed',
                                        'backbone.cls_token')
        assert group['weight_decay'] == (0.0 if no_wd else wd), name
    assert len(group_of) == len(named)


def test_frozen_parameters_stay_out_of_the_optimizer():
    model = tiny_classifier(frozen_stages=DEPTH)  # linear-probe freezing
    wrapper = build_wrapper(model)
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert in_optim == trainable
    assert trainable  # fc_norm is frozen only with the blocks; the head not
    assert all(id(p) not in in_optim
               for p in model.backbone.blocks.parameters())


def test_scale_is_applied_once_under_warmup_and_cosine():
    model = tiny_classifier()
    base_lr, decay = 2e-3, 0.65
    wrapper = build_wrapper(model, base_lr, 0.05, decay)
    optimizer = wrapper.optimizer
    groups = optimizer.param_groups
    scales = [base_lr * decay ** (DEPTH + 1 - g['layer_id'])
              for g in groups]
    top = max(range(len(groups)), key=lambda i: groups[i]['layer_id'])
    warmup, total = 5, 20
    schedulers = [
        LinearLR(optimizer, start_factor=1e-3, begin=0, end=warmup),
        CosineAnnealingLR(optimizer, eta_min_ratio=1e-3, begin=warmup,
                          end=total, T_max=total - warmup),
    ]
    seen_peak = False
    for step in range(total):
        lrs = [g['lr'] for g in groups]
        for lr, scale in zip(lrs, scales):
            # same ratio to the top layer as at construction, every step
            assert math.isclose(lr / lrs[top], scale / scales[top],
                                rel_tol=1e-9), step
        if step == warmup:
            # end of warm-up: the top layer is at the base lr, not base*scale
            assert math.isclose(lrs[top], base_lr, rel_tol=1e-9)
            seen_peak = True
        optimizer.step()
        for s in schedulers:
            s.step()
    assert seen_peak
    assert groups[top]['lr'] < base_lr * 0.05  # cosine went down


@pytest.mark.parametrize('paramwise_cfg', [
    dict(), dict(layer_decay_rate=1.5), dict(layer_decay_rate=0.6, x=1)])
def test_bad_paramwise_cfg_is_an_error(paramwise_cfg):
    with pytest.raises(ValueError, match='layer_decay_rate'):
        OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
            type='LayerDecayOptimWrapperConstructor',
            optim_wrapper_cfg=dict(optimizer=dict(type='AdamW', lr=1e-3)),
            paramwise_cfg=paramwise_cfg))


def test_model_without_layer_depth_is_an_error():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match='get_layer_depth'):
        build_wrapper(model)
