"""Bad configs are rejected before training starts, naming the key, the
value and what is allowed; every shipped config passes."""
import glob
import os.path as osp
import subprocess

import pytest

from easymae.apis import load_config
from easymae.config_check import (ConfigError, accepted_arguments,
                                  check_config_in_scope, schedule_warnings)
from reliab_helpers import DIGITS_MAE, REPO, env, train_cmd

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                           recursive=True))
CONFIGS = [c for c in CONFIGS if '_base_' not in c]


def _problems(options):
    with pytest.raises(ConfigError) as info:
        check_config_in_scope(load_config(DIGITS_MAE, options))
    return str(info.value)


@pytest.mark.parametrize('options, expected', [
    # misspelled keys, with the closest valid name
    ({'model.mask_ratoi': 0.5},
     "model.mask_ratoi=0.5: MAE has no argument 'mask_ratoi'; did you mean "
     "'mask_ratio'?"),
    ({'model.backbone.patch_sise': 4},
     "model.backbone.patch_sise=4: VisionTransformer has no argument "
     "'patch_sise'; did you mean 'patch_size'?"),
    ({'model.neck.decoder_depht': 2}, "did you mean 'decoder_depth'?"),
    ({'optim_wrapper.optimizer.weight_decai': 0.1},
     "optim_wrapper.optimizer.weight_decai=0.1: AdamW has no argument "
     "'weight_decai'; did you mean 'weight_decay'?"),
    ({'optim_wrapper.clip_gard': dict(max_norm=1.0)},
     "did you mean 'clip_grad'?"),
    ({'train_dataloader.dataset.data_source.img_sise': 16},
     "Digits has no argument 'img_sise'; did you mean 'img_size'?"),
    ({'train_dataloader.dataset.on_bad_imag': 'skip'},
     "did you mean 'on_bad_image'?"),
    ({'train_dataloader.num_worker': 2},
     "train_dataloader.num_worker=2: DataLoader has no argument "
     "'num_worker'; did you mean 'num_workers'?"),
    ({'default_hooks.checkpoint.max_keep_ckpt': 2},
     "did you mean 'max_keep_ckpts'?"),
    # unknown component names
    ({'model.backbone.type': 'VisionTransformr'},
     "model.backbone.type='VisionTransformr': no such model is registered; "
     "did you mean 'VisionTransformer'?"),
    # wrong types
    ({'model.mask_ratio': 'high'},
     "model.mask_ratio='high': MAE expects float, got str"),
    ({'train_dataloader.batch_size': 0},
     'train_dataloader.batch_size=0: must be an integer >= 1'),
    # impossible values, reported by the classes' own checks
    ({'model.mask_ratio': 1.0},
     'model: MAE: mask_ratio must be in [0, 1), got 1.0'),
    ({'model.mask_ratio': -0.1}, 'mask_ratio must be in [0, 1), got -0.1'),
    ({'model.backbone.img_size': 30},
     'model: VisionTransformer: img_size 30 is not divisible by '
     'patch_size 4'),
    # the runner's compile switch: a bool or torch.compile's own options
    ({'compile': 'yes'},
     "compile: must be True, False or a dict of torch.compile options, "
     "got 'yes'"),
    ({'compile': dict(mod='max-autotune')},
     "compile.mod: not a torch.compile option"),
    ({'compile': dict(mod='max-autotune')}, "did you mean 'mode'?"),
])
def test_bad_config_is_rejected_with_key_value_and_allowed(options,
                                                           expected):
    assert expected in _problems(options)


def test_all_problems_are_listed_at_once():
    msg = _problems({'model.mask_ratoi': 0.5,
                     'optim_wrapper.optimizer.lr_rate': 1.0})
    assert 'invalid config (2 problems)' in msg
    assert 'mask_ratoi' in msg and 'lr_rate' in msg


@pytest.mark.slow
@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(c) for c in CONFIGS])
def test_shipped_configs_pass(path):
    cfg = load_config(path)
    check_config_in_scope(cfg)
    assert schedule_warnings(cfg) == []


def test_shortened_run_keeps_its_whole_schedule():
    # the digits recipe: warm-up to warmup_epochs=3, cosine to 'max'
    assert schedule_warnings(load_config(DIGITS_MAE)) == []
    # the cosine follows train_cfg.max_epochs: nothing is cut off
    assert schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 10})) == []
    # an end given as a number does not follow, and is warned about
    found = schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 10,
                     'param_scheduler.1.end': 30}))
    assert found == [
        'param_scheduler[1] (CosineAnnealingLR) ends at epoch 30 but '
        'train_cfg.max_epochs=10: training stops 26% of the way through it; '
        "set param_scheduler.1.end='max' (or 10) if the run was shortened "
        'on purpose']
    # a run no longer than the warm-up never reaches the cosine at all
    found = schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 2}))
    assert found == [
        'param_scheduler[0] (LinearLR) ends at epoch 3 but '
        'train_cfg.max_epochs=2: training stops 67% of the way through it; '
        'set warmup_epochs below 2',
        'param_scheduler[1] (CosineAnnealingLR) begins at epoch 3 but '
        'train_cfg.max_epochs=2: it never runs; set warmup_epochs below 2']
    # following the advice silences it
    assert schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 2, 'warmup_epochs': 1})) == []


def test_iteration_schedules_are_checked_against_max_iters():
    cfg = load_config(DIGITS_MAE)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=100)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False,
                                begin=0, end=400)]
    assert schedule_warnings(cfg) == [
        'param_scheduler[0] (CosineAnnealingLR) ends at iter 400 but '
        'train_cfg.max_iters=100: training stops 25% of the way through '
        "it; set param_scheduler.0.end='max' (or 100) if the run was "
        'shortened on purpose']
    cfg.param_scheduler[0].end = 'max'
    assert schedule_warnings(cfg) == []


@pytest.mark.parametrize('options, expected', [
    ({'param_scheduler.1.end': 'last'},
     "param_scheduler[1].end='last': a number, 'warmup' (warmup_epochs) or "
     "'max' (train_cfg.max_epochs)"),
    ({'param_scheduler.0.by_epoch': False,
      'param_scheduler.0.convert_to_iter_based': False},
     "param_scheduler[0].end='warmup' needs warmup_iters, which the config "
     'does not set (this scheduler counts iterations: by_epoch=False)'),
])
def test_a_length_name_that_cannot_resolve_is_rejected(options, expected):
    assert expected in _problems(options)


def test_kwargs_are_followed_to_the_base_class():
    # AmpOptimWrapper(**kwargs) forwards to OptimWrapper(optimizer, ...)
    from easymae.engine.optim_wrapper import AmpOptimWrapper
    names = accepted_arguments(AmpOptimWrapper)
    assert {'dtype', 'optimizer', 'clip_grad',
            'accumulative_counts'} <= set(names)


@pytest.mark.slow
def test_train_tool_rejects_before_creating_anything(tmp_path):
    work_dir = tmp_path / 'never'
    proc = subprocess.run(
        train_cmd(DIGITS_MAE, work_dir, '--cfg-options',
                  'model.mask_ratoi=0.5'),
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert ("model.mask_ratoi=0.5: MAE has no argument 'mask_ratoi'; did "
            "you mean 'mask_ratio'?") in proc.stderr
    assert not work_dir.exists()


@pytest.mark.parametrize('attr', ['PRETRAIN', 'FINETUNE', 'SCRATCH'])
def test_main_job_shortens_its_recipes_without_cutting_the_cosine(attr):
    # tools/main_job.py --pretrain-epochs/--finetune-epochs N sets only
    # train_cfg.max_epochs: the schedulers' 'max' follows it
    import importlib.util

    from easymae.engine.schedule import resolve_param_scheduler
    spec = importlib.util.spec_from_file_location(
        'main_job', osp.join(REPO, 'tools', 'main_job.py'))
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    path = osp.join(REPO, getattr(main_job, attr))
    assert main_job.epochs_options(5) == ['train_cfg.max_epochs=5']
    cfg = load_config(path, {'train_cfg.max_epochs': 5})
    assert schedule_warnings(cfg) == []
    assert resolve_param_scheduler(cfg.param_scheduler, cfg)[-1].end == 5
