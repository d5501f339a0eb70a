"""The shipped classification configs parse, build, and say the recipe the
papers give (facebookresearch/mae FINETUNE.md; MAE-Lite for Tiny)."""
import glob
import os.path as osp

import pytest

import easymae  # noqa: F401
from easymae.apis import load_config
from easymae.config_check import resolve_param_scheduler
from easymae.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/classification/mae/*.py')))


def cfg_of(name):
    return load_config(osp.join(ROOT, 'configs/classification/mae', name))


def test_there_are_configs():
    names = {osp.basename(p) for p in CONFIGS}
    assert 'vit-base-p16_8xb128-coslr-100e_in1k.py' in names
    assert 'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_is_complete(path):
    cfg = load_config(path)
    assert cfg.model.type == 'ImageClassifier'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator', 'param_scheduler'):
        assert cfg.get(key), key
    assert cfg.val_evaluator.type == 'Accuracy'
    mixup = cfg.model.get('data_preprocessor', {}).get('mixup')
    if mixup:  # mixup needs even batches every step
        assert cfg.train_dataloader.drop_last is True
        assert cfg.train_dataloader.batch_size % 2 == 0


def test_vit_base_recipe():
    cfg = cfg_of('vit-base-p16_8xb128-coslr-100e_in1k.py')
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.optim_wrapper.optimizer.lr == 5e-4  # per 256, scaled
    assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    bb = cfg.model.backbone
    assert (bb.arch, bb.patch_size, bb.global_pool) == ('base', 16, 'avg')
    assert bb.drop_path_rate == 0.1
    warmup, cosine = resolve_param_scheduler(cfg.param_scheduler, cfg)
    assert (warmup.end, cosine.begin, cosine.end) == (5, 5, 100)
    assert cfg.param_scheduler[1].eta_min_ratio * 2e-3 == pytest.approx(1e-6)
    mix = cfg.model.data_preprocessor.mixup
    assert (mix.mixup_alpha, mix.cutmix_alpha, mix.switch_prob,
            mix.label_smoothing) == (0.8, 1.0, 0.5, 0.1)
    steps = {s.type: s for s in cfg.train_dataloader.dataset.pipeline}
    assert steps['RandAugment'].config_str == 'rand-m9-mstd0.5-inc1'
    assert steps['RandomErasing'].prob == 0.25
    assert 8 * cfg.train_dataloader.batch_size == 1024


def test_vit_large_recipe():
    cfg = cfg_of('vit-large-p16_8xb128-coslr-50e_in1k.py')
    assert cfg.train_cfg.max_epochs == 50
    assert resolve_param_scheduler(cfg.param_scheduler, cfg)[1].end == 50
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.75
    assert cfg.model.backbone.arch == 'large'
    assert cfg.model.backbone.drop_path_rate == 0.2


def test_probe_and_partial_recipes():
    probe = cfg_of('vit-base-p16_linear-probe_8xb2048-coslr-90e_in1k.py')
    assert probe.model.backbone.frozen_stages == 12
    assert probe.model.backbone.global_pool == 'token'
    assert probe.model.neck == dict(type='BatchNormNeck', eps=1e-6,
                                    affine=False)
    assert not probe.model.data_preprocessor.get('mixup')
    part = cfg_of('vit-base-p16_partial-ft-k4_8xb128-coslr-100e_in1k.py')
    assert part.model.train_last_blocks == 4


@pytest.mark.parametrize('name', [
    'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py',
    'vit-tiny-d6-p4_linear-probe_1xb64-coslr-10e_digits.py',
    'vit-tiny-d6-p4_partial-ft-k2_1xb64-coslr-10e_digits.py'])
def test_digits_configs_build_matching_the_digits_pretrain(name):
    cfg = cfg_of(name)
    pre = load_config(osp.join(
        ROOT, 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    vit = model.backbone
    assert (vit.depth, vit.img_size, vit.patch_size) == (
        pre.model.backbone.depth, pre.model.backbone.img_size,
        pre.model.backbone.patch_size)
    trainable = {n.split('.')[0] + '.' + n.split('.')[1]
                 for n, p in model.named_parameters() if p.requires_grad}
    if 'linear-probe' in name:
        assert trainable == {'head.fc'}
    elif 'partial' in name:
        assert 'backbone.blocks' in trainable
        assert not vit.blocks[3].attn.qkv.weight.requires_grad
        assert vit.blocks[4].attn.qkv.weight.requires_grad
    else:
        # full finetune: everything learns, positions included
        assert all(p.requires_grad for p in model.parameters())
