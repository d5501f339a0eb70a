"""Bad configs are rejected before training starts, naming the key, the
value and what is allowed; every shipped config passes."""
import glob
import os.path as osp
import subprocess

import pytest
from reliab_helpers import DIGITS_MAE, REPO, env, train_cmd

from easymae.apis import load_config
from easymae.config_check import (
    ConfigError,
    accepted_arguments,
    check_config_in_scope,
    schedule_warnings,
)

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
    # train_cfg.max_epochs (and the warm-up, a tenth of it): the
    # schedulers' 'warmup' and 'max' follow them
    import importlib.util

    from easymae.config_check import resolve_param_scheduler
    spec = importlib.util.spec_from_file_location(
        'main_job', osp.join(REPO, 'tools', 'main_job.py'))
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    path = osp.join(REPO, getattr(main_job, attr))
    assert main_job.epochs_options(5) == ['train_cfg.max_epochs=5',
                                          'warmup_epochs=1']
    cfg = load_config(path, {'train_cfg.max_epochs': 5, 'warmup_epochs': 1})
    assert schedule_warnings(cfg) == []
    warmup, main = resolve_param_scheduler(cfg.param_scheduler, cfg)
    assert (warmup.end, main.begin, main.end) == (1, 1, 5)
    # the default lengths are the recipe's own
    cfg = load_config(path)
    n = cfg.train_cfg.max_epochs
    assert main_job.epochs_options(n) == [f'train_cfg.max_epochs={n}',
                                          f'warmup_epochs={cfg.warmup_epochs}']


# ---- mistakes the runner would otherwise take silently or late -----------

@pytest.mark.parametrize('options, expected', [
    # a misspelt top-level key would just be ignored by the runner
    ({'lod_from': 'pretrained.pth'},
     "lod_from='pretrained.pth': not a key the runner reads (it would be "
     "ignored); did you mean 'load_from'?"),
    ({'defualt_hooks': dict(logger=dict(interval=5))},
     "did you mean 'default_hooks'?"),
    # a run that trains nothing; a negative learning rate
    ({'train_cfg.max_epochs': 0},
     'train_cfg.max_epochs=0: must be >= 1 (the run would train nothing)'),
    ({'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop',
                        max_iters=-5)},
     'train_cfg.max_iters=-5: must be >= 1'),
    ({'optim_wrapper.optimizer.lr': -1e-3},
     'optim_wrapper.optimizer.lr=-0.001: a learning rate must be >= 0'),
])
def test_run_level_mistakes_are_rejected(options, expected):
    assert expected in _problems(options)


def test_config_variables_are_not_taken_for_misspelt_keys():
    # top-level names far from every runner key are the config's variables
    cfg = load_config(DIGITS_MAE, {'data_root': 'data/', 'img': 16,
                                   'train_pipeline': [], 'base_lr': 1e-3})
    check_config_in_scope(cfg)


def test_data_source_classes_must_match_the_head(tmp_path):
    config = osp.join(REPO, 'configs', 'classification', 'mae',
                      'vit-tiny-d6-p4_linear-probe_1xb64-coslr-10e_digits.py')
    source = dict(_delete_=True, type='ImageList', root=str(tmp_path),
                  list_file='list.txt')
    cfg = load_config(config, {'train_dataloader.dataset.data_source':
                               dict(source, num_classes=12)})
    with pytest.raises(ConfigError) as info:
        check_config_in_scope(cfg)
    assert ('train_dataloader.dataset.data_source.num_classes=12 but the '
            'model has 10 classes (model.head.num_classes)') in \
        str(info.value)
    # not given: the check passes the head's count on, so every label is
    # checked when the list is read
    cfg = load_config(config, {'train_dataloader.dataset.data_source':
                               source})
    check_config_in_scope(cfg)
    assert cfg.train_dataloader.dataset.data_source.num_classes == 10


def test_syntax_error_names_the_config_file(tmp_path):
    import traceback
    path = tmp_path / 'broken_cfg.py'
    path.write_text(f"_base_ = [{DIGITS_MAE!r}]\n"
                    "model = dict(mask_ratio=0.6,\n"
                    "train_cfg = dict(max_epochs=2)\n")
    with pytest.raises(SyntaxError) as info:
        load_config(str(path))
    assert info.value.filename == str(path)
    assert f'in the config file {path}' in str(info.value)
    shown = ''.join(traceback.format_exception(info.value))
    assert f'File "{path}", line' in shown and '<unknown>' not in shown


@pytest.mark.slow
def test_zero_epochs_is_refused_before_anything_is_created(tmp_path):
    work_dir = tmp_path / 'never'
    proc = subprocess.run(
        train_cmd(DIGITS_MAE, work_dir, '--cfg-options',
                  'train_cfg.max_epochs=0', 'optim_wrapper.optimizer.lr=-1'),
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'invalid config (2 problems)' in proc.stderr
    assert 'train_cfg.max_epochs=0: must be >= 1' in proc.stderr
    assert 'optim_wrapper.optimizer.lr=-1: a learning rate' in proc.stderr
    assert not work_dir.exists()


def test_a_partial_test_or_val_set_is_named():
    # a loader and evaluator without their loop: mmengine would refuse
    # only when the runner is built, after the work dir exists
    cfg = load_config(osp.join(
        REPO, 'configs/classification/mae/vit-tiny-d6-p4_1xb64-coslr-10e_'
        'digits.py'))
    cfg.test_cfg = None
    with pytest.raises(ConfigError) as info:
        check_config_in_scope(cfg)
    assert ("test_cfg: not set, while test_dataloader, test_evaluator are; "
            "test needs all three (e.g. test_cfg=dict(type='TestLoop')) or "
            "none") in str(info.value)
    cfg.test_dataloader = cfg.test_evaluator = None  # none: no testing
    check_config_in_scope(cfg)
