"""Weight-key conversion: every layout -> easymae backbone, strictly.

Foreign state dicts are built here from the published layouts (official
MAE, timm, EasyCV, mmpretrain; see easymae/hub/layouts.py), with the inverse
renaming written independently of easymae/hub/layouts.py.
"""
import re

import pytest
import timm
import torch

from easymae.hub import (
    CheckpointMismatchError,
    ConversionError,
    UnknownLayoutError,
    check_complete,
    load_pretrained_backbone,
    to_easymae,
    to_timm,
)
from easymae.models.backbones.vision_transformer import VisionTransformer

TINY = dict(arch='tiny', img_size=16, patch_size=4, embed_dim=32, depth=2,
            num_heads=2)


def make_vit(seed=0, **kw):
    torch.manual_seed(seed)
    vit = VisionTransformer(**dict(TINY, **kw))
    # random values everywhere (norms too), so a wrong mapping shows
    with torch.no_grad():
        for p in vit.parameters():
            p.normal_(0, 0.2)
    return vit.eval()


def decoder_keys(prefix=''):
    """Some MAE decoder tensors with official names, under a prefix."""
    return {f'{prefix}mask_token': torch.randn(1, 1, 16),
            f'{prefix}decoder_embed.weight': torch.randn(16, 32),
            f'{prefix}decoder_pos_embed': torch.randn(1, 17, 16),
            f'{prefix}decoder_blocks.0.norm1.weight': torch.randn(16),
            f'{prefix}decoder_blocks.0.mlp.fc1.weight': torch.randn(64, 16),
            f'{prefix}decoder_norm.weight': torch.randn(16),
            f'{prefix}decoder_pred.weight': torch.randn(48, 16)}


def to_mmpretrain_names(key):
    key = key.replace('patch_embed.proj', 'patch_embed.projection')
    m = re.match(r'blocks\.(\d+)\.(.+)$', key)
    if m:
        rest = m.group(2)
        for a, b in (('norm1', 'ln1'), ('norm2', 'ln2'),
                     ('mlp.fc1', 'ffn.layers.0.0'),
                     ('mlp.fc2', 'ffn.layers.1')):
            rest = rest.replace(a, b)
        key = f'layers.{m.group(1)}.{rest}'
    elif key.startswith('norm.'):
        key = 'ln1.' + key[5:]
    elif key.startswith('fc_norm.'):
        key = 'ln2.' + key[8:]
    return 'backbone.' + key


def foreign(layout, timm_sd):
    """A checkpoint object of ``layout`` holding the timm-named encoder."""
    if layout == 'mae-official':
        return {'model': dict(timm_sd, **decoder_keys())}
    if layout == 'timm':
        return dict(timm_sd)
    if layout == 'easymae':
        sd = {'backbone.' + k: v for k, v in timm_sd.items()}
        sd.update({'neck.' + k: v for k, v in decoder_keys().items()})
        return {'state_dict': sd, 'meta': {'epoch': 3}}
    if layout == 'easycv-pretrain':
        sd = {'encoder.' + k: v for k, v in timm_sd.items()}
        sd.update(decoder_keys('decoder.'))
        return {'state_dict': sd, 'meta': {}, 'author': 'EasyCV'}
    if layout == 'easycv-finetune':
        sd = {'backbone.model.' + k: v for k, v in timm_sd.items()}
        return {'state_dict': sd}
    if layout == 'mmpretrain':
        sd = {to_mmpretrain_names(k): v for k, v in timm_sd.items()}
        sd['neck.mask_token'] = torch.randn(1, 1, 16)
        sd['neck.decoder_blocks.0.ln1.weight'] = torch.randn(16)
        sd['neck.decoder_blocks.0.ffn.layers.0.0.weight'] = torch.randn(64, 16)
        sd['neck.ln1.weight'] = torch.randn(16)
        sd['neck.decoder_pred.weight'] = torch.randn(48, 16)
        return {'state_dict': sd, 'meta': {}}
    raise AssertionError(layout)


LAYOUT_OF = {'easycv-pretrain': 'easycv', 'easycv-finetune': 'easycv'}
FOREIGN = ['mae-official', 'timm', 'easymae', 'easycv-pretrain',
           'easycv-finetune', 'mmpretrain']


@pytest.mark.parametrize('layout', FOREIGN)
def test_each_layout_converts_and_gives_identical_outputs(layout, tmp_path):
    src = make_vit(seed=1)
    ckpt = tmp_path / f'{layout}.pth'
    torch.save(foreign(layout, src.state_dict()), ckpt)
    conv = to_timm(torch.load(ckpt, weights_only=True), source=str(ckpt))
    assert conv.layout == LAYOUT_OF.get(layout, layout)
    check_complete(conv)
    assert set(conv.state_dict) == set(src.state_dict())
    # decoder / mask token were dropped, and said so
    decoder = [k for k in conv.dropped
               if 'decoder' in k or 'mask' in k or k.startswith('neck.')]
    assert len(decoder) == len(conv.dropped)
    if layout not in ('timm', 'easycv-finetune'):
        assert decoder

    dst = make_vit(seed=2)
    x = torch.randn(2, 3, 16, 16)
    assert not torch.allclose(dst.forward_features(x),
                              src.forward_features(x))
    load_pretrained_backbone(dst, str(ckpt))  # auto layout, strict
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k
    assert torch.equal(dst.forward_features(x), src.forward_features(x))


def test_mmpretrain_top_level_ln2_is_fc_norm_not_norm2():
    # the mmcls2timm pitfall: backbone.ln2 (global-pool fc_norm) must not
    # become norm2; backbone.ln1 is the final norm.
    src = make_vit(global_pool='avg')
    sd = {to_mmpretrain_names(k): v for k, v in src.state_dict().items()}
    assert 'backbone.ln2.weight' in sd and 'backbone.ln1.weight' not in sd
    sd['head.fc.weight'] = torch.randn(10, 32)
    sd['head.fc.bias'] = torch.randn(10)
    conv = to_timm({'state_dict': sd})
    assert conv.layout == 'mmpretrain'
    assert torch.equal(conv.state_dict['fc_norm.weight'],
                       src.state_dict()['fc_norm.weight'])
    assert torch.equal(conv.state_dict['head.weight'], sd['head.fc.weight'])
    assert not any(k.startswith('norm') for k in conv.state_dict)


def test_round_trip_easymae_timm_easymae_identical(tmp_path):
    src = make_vit(seed=3)
    original = foreign('easymae', src.state_dict())
    to_timm_sd = to_timm(original).state_dict
    back = to_easymae(to_timm_sd)['state_dict']
    want = {k: v for k, v in original['state_dict'].items()
            if k.startswith('backbone.')}
    assert set(back) == set(want)
    for k, v in want.items():
        assert torch.equal(back[k], v) and back[k].dtype == v.dtype, k


def test_timm_loads_our_timm_layout_strictly():
    src = make_vit(seed=4)
    sd = to_timm(foreign('easymae', src.state_dict())).state_dict
    net = timm.models.vision_transformer.VisionTransformer(
        img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2,
        num_classes=0)
    net.load_state_dict(sd, strict=True)
    net.eval()
    x = torch.randn(2, 3, 16, 16)
    assert torch.allclose(net.forward_features(x), src.forward_features(x),
                          atol=1e-6)


def test_global_pool_backbone_drops_norm_and_creates_fc_norm(tmp_path):
    src = make_vit(seed=5)  # cls-token pretrain encoder: norm, no fc_norm
    ckpt = tmp_path / 'pre.pth'
    torch.save(foreign('mae-official', src.state_dict()), ckpt)
    dst = VisionTransformer(**dict(TINY, global_pool='avg'))
    conv = load_pretrained_backbone(dst, str(ckpt))
    assert 'norm.weight' in conv.dropped
    assert torch.equal(dst.blocks[1].attn.qkv.weight,
                       src.blocks[1].attn.qkv.weight)
    assert torch.equal(dst.fc_norm.weight, torch.ones(32))  # fresh


def test_pos_embed_interpolated_for_another_image_size(tmp_path):
    src = make_vit(seed=6)  # 16 px / 4 = 4x4 grid
    ckpt = tmp_path / 'pre.pth'
    torch.save(foreign('timm', src.state_dict()), ckpt)
    dst = VisionTransformer(**dict(TINY, img_size=32))  # 8x8 grid
    load_pretrained_backbone(dst, str(ckpt))
    assert dst.pos_embed.shape == (1, 65, 32)
    assert torch.equal(dst.pos_embed[:, 0], src.pos_embed[:, 0])  # cls
    grid = src.pos_embed[:, 1:].reshape(1, 4, 4, 32).permute(0, 3, 1, 2)
    want = torch.nn.functional.interpolate(grid, size=(8, 8),
                                           mode='bicubic',
                                           align_corners=False)
    got = dst.pos_embed[:, 1:].reshape(1, 8, 8, 32).permute(0, 3, 1, 2)
    assert torch.allclose(got, want, atol=1e-6)


def test_wrong_embed_dim_is_a_clear_error(tmp_path):
    src = make_vit(seed=7)
    ckpt = tmp_path / 'narrow.pth'
    torch.save(foreign('easymae', src.state_dict()), ckpt)
    dst = VisionTransformer(**dict(TINY, embed_dim=64))
    before = dst.blocks[0].attn.qkv.weight.clone()
    with pytest.raises(CheckpointMismatchError) as err:
        load_pretrained_backbone(dst, str(ckpt))
    msg = str(err.value)
    assert str(ckpt) in msg and 'embedding width: checkpoint 32, model 64' \
        in msg and 'blocks.0.attn.qkv.weight' in msg
    assert torch.equal(dst.blocks[0].attn.qkv.weight, before)  # untouched


def test_unexpected_and_missing_keys_are_errors(tmp_path):
    sd = dict(make_vit(seed=8).state_dict())
    sd['blocks.0.attn.gamma'] = torch.ones(32)  # unknown to the backbone
    del sd['blocks.1.mlp.fc2.bias']
    ckpt = tmp_path / 'odd.pth'
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointMismatchError) as err:
        load_pretrained_backbone(VisionTransformer(**TINY), str(ckpt))
    msg = str(err.value)
    assert 'missing keys: blocks.1.mlp.fc2.bias' in msg
    assert 'unexpected keys: blocks.0.attn.gamma' in msg
    with pytest.raises(ConversionError, match='gamma'):
        check_complete(to_timm(sd))


def test_unknown_layout_is_a_clear_error(tmp_path):
    clip_like = {'visual.conv1.weight': torch.zeros(4, 3, 2, 2),
                 'visual.class_embedding': torch.zeros(4)}
    with pytest.raises(UnknownLayoutError, match='visual.class_embedding'):
        to_timm(clip_like, source='clip.pt')
    ckpt = tmp_path / 'clip.pt'
    torch.save(clip_like, ckpt)
    with pytest.raises(UnknownLayoutError, match=str(ckpt)):
        load_pretrained_backbone(VisionTransformer(**TINY), str(ckpt))


def test_prefix_selects_a_subtree(tmp_path):
    src = make_vit(seed=9)
    sd = {'teacher.' + k: v for k, v in src.state_dict().items()}
    sd['student.cls_token'] = torch.zeros(1, 1, 32)
    ckpt = tmp_path / 'distill.pth'
    torch.save({'state_dict': sd}, ckpt)
    dst = VisionTransformer(**TINY)
    load_pretrained_backbone(dst, str(ckpt), prefix='teacher.')
    assert torch.equal(dst.cls_token, src.cls_token)
    with pytest.raises(ConversionError, match="prefix 'nobody.'"):
        load_pretrained_backbone(dst, str(ckpt), prefix='nobody.')


def test_timm_checkpoint_with_layer_scale_is_complete(tmp_path):
    # timm names layer scale blocks.N.ls1.gamma / ls2.gamma; a ViT that uses
    # it (SimMIM's recipe) must convert, publish and load like any other
    src = make_vit(seed=2, init_values=0.1)
    assert any('.ls1.gamma' in k for k in src.state_dict())
    ckpt = tmp_path / 'timm_ls.pth'
    torch.save(src.state_dict(), ckpt)
    conv = to_timm(torch.load(ckpt, weights_only=True), source=str(ckpt))
    check_complete(conv)
    dst = make_vit(seed=3, init_values=0.1)
    load_pretrained_backbone(dst, str(ckpt))
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(dst.forward_features(x), src.forward_features(x))
