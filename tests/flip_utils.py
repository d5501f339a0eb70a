"""Helpers shared by the FLIP tests (tiny models, data locations)."""
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_data(*parts: str) -> str:
    """A path under ../shared/data (or $EASYMAE_SHARED_DATA); skips the
    test with the reason when it is not there."""
    root = os.environ.get('EASYMAE_SHARED_DATA') or osp.join(
        REPO, '..', 'shared', 'data')
    path = osp.join(root, *parts)
    if not osp.exists(path):
        pytest.skip(f'shared data {path!r} not found (set '
                    'EASYMAE_SHARED_DATA to ../shared/data)')
    return path


def tiny_flip_cfg(mask_ratio=0.0, img_size=16, patch_size=4,
                  context_length=16, embed_dim=16, **kwargs):
    cfg = dict(
        type='FLIP', embed_dim=embed_dim, mask_ratio=mask_ratio,
        backbone=dict(type='VisionTransformer', img_size=img_size,
                      patch_size=patch_size, embed_dim=32, depth=2,
                      num_heads=4, global_pool='avg'),
        text_backbone=dict(type='TextTransformer',
                           context_length=context_length, width=32, depth=2,
                           num_heads=4))
    cfg.update(kwargs)
    return cfg
