"""NaNGuardHook: a non-finite loss or gradient stops the run naming the
iteration and the last good checkpoint, or skips the step and counts it."""
import json
import math
import os.path as osp
import re
import uuid

import pytest
import torch
from reliab_helpers import load_state, logged_scalars, write_config

from easymae.apis import build_runner, load_config
from easymae.engine.hooks import NaNGuardHook, NonFiniteError

ITERS = '''
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=8)
'''


def _runner(tmp_path, extra, **options):
    cfg = load_config(write_config(tmp_path, ckpt_interval=2,
                                   ckpt_by_epoch=False, extra=ITERS + extra),
                      dict(experiment_name=uuid.uuid4().hex, **options))
    return build_runner(cfg, work_dir=str(tmp_path / 'work'))


@pytest.mark.slow
def test_exploding_lr_stops_naming_iteration_and_last_good_checkpoint(
        tmp_path):
    # lr 1e4: the weights grow by ~1e4 a step until activations overflow;
    # the guard must stop before a NaN reaches the weights.
    runner = _runner(tmp_path, "default_hooks = dict(nan_guard=dict("
                     "type='NaNGuardHook', action='stop'))\n",
                     **{'optim_wrapper.optimizer.lr': 1e4})
    with pytest.raises(NonFiniteError) as info:
        runner.train()
    msg = str(info.value)
    bad_iter = int(re.search(r'non-finite (?:loss|gradient) at iteration '
                             r'(\d+)', msg).group(1))
    assert 1 < bad_iter <= 8
    good = bad_iter - 1 - (bad_iter - 1) % 2  # checkpoints every 2 iters
    ckpt = osp.join(runner.work_dir, f'iter_{good}.pth')
    assert f'last good checkpoint: {ckpt}' in msg
    state = load_state(ckpt)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values())
    assert not osp.exists(osp.join(runner.work_dir, f'iter_{good + 2}.pth'))


@pytest.mark.slow
def test_skip_mode_skips_exactly_the_bad_steps_and_counts_them(tmp_path):
    poisoned = [3, 50, 77, 300, 1001, 1500]
    extra = (
        "custom_imports = dict(imports=['reliab_plugins.index_seeded_mae'])\n"
        f"model = dict(type='PoisonedMAE', poisoned={poisoned})\n"
        "custom_hooks = [dict(type='RecordSampleIdsHook')]\n"
        "default_hooks = dict(nan_guard=dict(type='NaNGuardHook', "
        "action='skip', max_consecutive_skips=8))\n")
    runner = _runner(tmp_path, extra, **{'train_cfg.max_iters': 30})
    runner.train()
    with open(osp.join(runner.work_dir, 'sample_ids_rank0.json')) as f:
        seen = json.load(f)
    bad_batches = sum(bool(set(row[1:]) & set(poisoned)) for row in seen)
    assert 0 < bad_batches < 30
    assert runner.message_hub.get_info('nan_guard_skipped') == bad_batches
    weights = runner.model.state_dict()
    assert all(torch.isfinite(v).all() for v in weights.values())
    logged = logged_scalars(runner.work_dir)
    assert logged[30]['skipped_steps'] == bad_batches
    # the count survives in the checkpoint, for a resumed run to continue
    state = load_state(osp.join(runner.work_dir, 'iter_30.pth'))
    assert state['message_hub']['runtime_info']['nan_guard_skipped'] == \
        bad_batches


def test_gradient_clipping_from_config_is_applied_and_logged(tmp_path):
    runner = _runner(tmp_path, '', **{
        'optim_wrapper.clip_grad': dict(max_norm=0.01),
        'train_cfg.max_iters': 3})
    runner.train()
    logged = logged_scalars(runner.work_dir)
    # mmengine logs the norm before clipping; clipping was configured
    assert all(math.isfinite(logged[s]['grad_norm']) for s in (1, 2, 3))
    assert runner.optim_wrapper.clip_grad_kwargs == dict(max_norm=0.01)


def test_guard_arguments_are_checked():
    with pytest.raises(ValueError, match="action must be 'stop' or 'skip'"):
        NaNGuardHook(action='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        NaNGuardHook(max_consecutive_skips=0)


def test_default_runtime_enables_the_guard():
    cfg = load_config(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_hooks['nan_guard']['type'] == 'NaNGuardHook'
