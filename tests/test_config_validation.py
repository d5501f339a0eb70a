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


def test_shortened_run_warns_that_the_schedule_is_cut_off():
    # the digits recipe: 30 epochs, warm-up to epoch 3, cosine to 30
    assert schedule_warnings(load_config(DIGITS_MAE)) == []
    found = schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 10}))
    assert found == [
        'param_scheduler[1] (CosineAnnealingLR) ends at epoch 30 but '
        'train_cfg.max_epochs=10: training stops 26% of the way through it; '
        'set param_scheduler.1.end=10 as well if the run was shortened on '
        'purpose']
    # following the advice silences it
    assert schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 10,
                     'param_scheduler.1.end': 10})) == []
    # a run shorter than the warm-up never reaches the cosine at all
    found = schedule_warnings(load_config(
        DIGITS_MAE, {'train_cfg.max_epochs': 2}))
    assert len(found) == 2
    assert 'param_scheduler[0] (LinearLR) ends at epoch 3' in found[0]
    assert 'param_scheduler[1] (CosineAnnealingLR) begins at epoch 3' \
        in found[1] and 'it never runs' in found[1]


def test_iteration_schedules_are_checked_against_max_iters():
    cfg = load_config(DIGITS_MAE)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=100)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False,
                                begin=0, end=400)]
    assert schedule_warnings(cfg) == [
        'param_scheduler[0] (CosineAnnealingLR) ends at iter 400 but '
        'train_cfg.max_iters=100: training stops 25% of the way through '
        'it; set param_scheduler.0.end=100 as well if the run was '
        'shortened on purpose']


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
    # tools/main_job.py --pretrain-epochs/--finetune-epochs N
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'main_job', osp.join(REPO, 'tools', 'main_job.py'))
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    path = osp.join(REPO, getattr(main_job, attr))
    options = dict(o.split('=') for o in main_job.epochs_options(5))
    options = {k: int(v) for k, v in options.items()}
    assert schedule_warnings(load_config(path, options)) == []
    # without the scheduler's end the same run would be cut off
    assert schedule_warnings(load_config(
        path, {'train_cfg.max_epochs': 5})) != []
