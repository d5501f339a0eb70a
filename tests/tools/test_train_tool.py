"""tools/train.py as a user runs it: a few iterations log a loss and write a
checkpoint that loads with weights_only=True; --resume continues from the
saved iteration instead of restarting; --amp trains on the CPU.
(The real 2-process torchrun run of tools/train.py is in
test_distributed.py.)"""
import math
import os.path as osp

import pytest
import torch
from reliab_helpers import load_state, logged_scalars, run_train, write_config

from easymae.engine.precision import precision_problem

ITERS = "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', " \
        "max_iters=4)\n"


def _config(tmp_path):
    return write_config(tmp_path, ckpt_interval=2, ckpt_by_epoch=False,
                        extra=ITERS)


@pytest.mark.slow
def test_train_then_resume_continues(tmp_path):
    cfg, work = _config(tmp_path), tmp_path / 'work'
    proc = run_train(cfg, work)
    assert 'loss:' in proc.stdout + proc.stderr
    state = load_state(work / 'iter_4.pth')  # weights_only=True
    assert state['meta']['iter'] == 4
    assert 'backbone.patch_embed.proj.weight' in state['state_dict']
    assert 'optimizer' in state and 'param_schedulers' in state
    first = logged_scalars(work)
    assert sorted(first) == [1, 2, 3, 4]
    assert all(math.isfinite(r['loss']) for r in first.values())

    proc = run_train(cfg, work, '--resume', '--cfg-options',
                     'train_cfg.max_iters=6')
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert load_state(work / 'iter_6.pth')['meta']['iter'] == 6
    # the second run logged iterations 5 and 6 only: it continued
    runs = sorted(p for p in work.iterdir() if p.is_dir())
    second = logged_scalars(work)
    assert len(runs) == 2 and sorted(second) == [1, 2, 3, 4, 5, 6]
    with open(runs[1] / 'vis_data' / 'scalars.json') as f:
        assert [eval(line)['step'] for line in f] == [5, 6]


@pytest.mark.slow
def test_amp_on_cpu(tmp_path):
    cfg, work = _config(tmp_path), tmp_path / 'amp'
    if precision_problem(torch.bfloat16, 'cpu'):
        # no bf16 matrix units: refused with the reason, before any step
        proc = run_train(cfg, work, '--amp', check=False)
        assert proc.returncode != 0
        assert 'neither AMX (amx_bf16) nor AVX-512 bf16' in proc.stderr
        assert not list(work.glob('*.pth'))
        return
    run_train(cfg, work, '--amp', '--cfg-options',
                     'train_cfg.max_iters=2')
    # the config the run dumped next to its checkpoints says what it used
    assert "type='AmpOptimWrapper'" in open(osp.join(work, 'cfg.py')).read()
    logged = logged_scalars(work)
    assert sorted(logged) == [1, 2]
    assert all(math.isfinite(r['loss']) for r in logged.values())


@pytest.mark.extended
@pytest.mark.slow(seconds=120)
def test_compile_trains_like_eager(tmp_path):
    # `compile` compiles the model's training forward (mmengine's default
    # would compile the whole train_step, which dynamo cannot trace through
    # the NaN guard). fallback_random keeps the masking noise on eager's
    # generator, so both runs see the same masks and their losses agree.
    cfg = write_config(tmp_path, ckpt_interval=2, ckpt_by_epoch=False,
                       pipeline="[dict(type='PackInputs')]", extra=ITERS)
    run_train(cfg, tmp_path / 'eager')
    proc = run_train(cfg, tmp_path / 'compiled', '--cfg-options',
                     "compile.options.fallback_random=True")
    assert 'compiled MAE.loss with torch.compile' in proc.stdout + proc.stderr
    eager = logged_scalars(tmp_path / 'eager')
    compiled = logged_scalars(tmp_path / 'compiled')
    assert sorted(compiled) == [1, 2, 3, 4]
    for step in sorted(eager):
        assert compiled[step]['loss'] == pytest.approx(
            eager[step]['loss'], rel=1e-3), step
    # the checkpoint holds the plain module's keys, not a compiled wrapper's
    state = load_state(tmp_path / 'compiled' / 'iter_4.pth')['state_dict']
    assert 'backbone.patch_embed.proj.weight' in state
    assert not any('_orig_mod' in k for k in state)
