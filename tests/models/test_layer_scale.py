"""Layer scale in the ViT (timm's ``init_values``): off by default with no
new keys; on, the same outputs and parameter names as timm's ViT, and every
path that runs the blocks itself (attention maps, SimMIM, layer decay)
sees the scales."""
import math

import pytest
import torch
from timm.models.vision_transformer import (
    VisionTransformer as TimmVisionTransformer,
)

import easymae  # noqa: F401
from easymae.models.utils.attention import encode_with_attention
from easymae.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

SMALL = dict(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=4)


def vit(**kwargs):
    return MODELS.build(dict(type='VisionTransformer', **SMALL, **kwargs))


def timm_vit(**kwargs):
    # timm's ViT with our defaults: qkv bias, LayerNorm eps 1e-6, no head
    return TimmVisionTransformer(**SMALL, num_classes=0, **kwargs)


def _randomise_scales(model, seed=0):
    """Scales that differ per channel, so an unscaled path cannot pass."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.gamma'):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)


def test_off_by_default_and_state_dict_unchanged():
    default, off = vit().state_dict(), vit(init_values=None).state_dict()
    assert list(default) == list(off)
    assert not [k for k in default if '.ls' in k or 'gamma' in k]
    # the same keys as timm's ViT without layer scale
    assert set(default) == set(timm_vit().state_dict())


def test_names_and_initial_values_follow_timm():
    model = vit(init_values=0.1)
    sd = model.state_dict()
    theirs = timm_vit(init_values=0.1).state_dict()
    assert set(sd) == set(theirs)
    for i in range(SMALL['depth']):
        for ls in ('ls1', 'ls2'):
            gamma = sd[f'blocks.{i}.{ls}.gamma']
            assert gamma.shape == (SMALL['embed_dim'], )
            assert torch.equal(gamma, torch.full_like(gamma, 0.1))


@pytest.mark.parametrize('global_pool', ['token', 'avg'])
def test_outputs_equal_timm_with_the_same_weights(global_pool):
    torch.manual_seed(0)
    ours = vit(init_values=0.1, global_pool=global_pool).eval()
    _randomise_scales(ours)
    theirs = timm_vit(init_values=0.1, global_pool=global_pool).eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(ours.forward_features(x),
                              theirs.forward_features(x), atol=1e-5)
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_attention_forward_equals_normal_forward_with_layer_scale():
    torch.manual_seed(0)
    model = vit(init_values=0.1).eval()
    _randomise_scales(model)
    x = model.prepend_cls(model.embed(torch.randn(2, 3, 32, 32)))
    with torch.no_grad():
        plain = model.encode(x)
        kept, maps = encode_with_attention(model, x, layers=[0, -1])
    assert sorted(maps) == [0, 1]
    assert torch.allclose(kept, plain, atol=1e-5)
    # and the scales matter: without them the output differs
    with torch.no_grad():
        for blk in model.blocks:
            blk.ls1.gamma.fill_(1.0)
            blk.ls2.gamma.fill_(1.0)
        assert not torch.allclose(model.encode(x), plain, atol=1e-3)


def test_layer_decay_puts_scales_in_their_block_without_weight_decay():
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', init_values=0.1,
                      global_pool='avg', **SMALL),
        head=dict(type='LinearClsHead', num_classes=5)))
    base_lr, decay, depth = 1e-3, 0.7, SMALL['depth']
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LayerDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay_rate=decay)))(model)
    group_of = {id(p): g for g in wrapper.optimizer.param_groups
                for p in g['params']}
    seen = 0
    for name, p in model.named_parameters():
        if not name.endswith('.gamma'):
            continue
        block = int(name.split('.')[2])
        group = group_of[id(p)]
        assert math.isclose(group['lr'],
                            base_lr * decay ** (depth + 1 - (block + 1)))
        assert group['weight_decay'] == 0.0, name
        seen += 1
    assert seen == 2 * depth


def test_simmim_trains_the_scales():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='SimMIM', mask_patch_size=8, mask_ratio=0.6,
        backbone=dict(type='VisionTransformer', img_size=32, patch_size=4,
                      embed_dim=32, depth=2, num_heads=2, init_values=0.1),
        neck=dict(type='SimMIMDecoder'), head=dict(type='SimMIMHead')))
    imgs = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=imgs), True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for blk in model.backbone.blocks:
        assert blk.ls1.gamma.grad is not None
        assert blk.ls1.gamma.grad.abs().sum() > 0
        assert blk.ls2.gamma.grad.abs().sum() > 0


def test_bad_init_values():
    with pytest.raises(ValueError, match='init_values'):
        vit(init_values=0.0)
