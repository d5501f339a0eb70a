"""A run killed with SIGKILL mid-epoch and resumed with ``--resume`` ends
with the same weights and the same logged losses as an uninterrupted run."""
import os.path as osp
import signal
import subprocess
import time

import pytest
import torch
from reliab_helpers import (
    REPO,
    env,
    load_state,
    logged_scalars,
    run_train,
    train_cmd,
    write_config,
)

# 360 'val' digits at batch 32 -> 11 iterations per epoch; 2 epochs; a
# checkpoint every 5 iterations, so most checkpoints fall mid-epoch.
EXTRA = '''
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
'''


# persistent workers keep their random state from one epoch to the next,
# while a resumed run's workers start fresh: the samples' randomness must
# not depend on that (it is seeded per sample, see PipelineDataset)
PERSISTENT = '''
train_dataloader = dict(persistent_workers=True)
'''


def _config(tmp_path, num_workers=0, persistent=False):
    return write_config(tmp_path, batch_size=32, num_workers=num_workers,
                        ckpt_interval=5, ckpt_by_epoch=False, split='val',
                        extra=EXTRA + (PERSISTENT if persistent else ''))


def _kill_after_checkpoint(cmd, work_dir, name, timeout=180,
                           until_last=False):
    """Start ``cmd`` and SIGKILL it as soon as checkpoint ``name`` exists
    (``until_last``: as soon as ``last_checkpoint`` names it)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    target = osp.join(work_dir, name)
    pointer = osp.join(work_dir, 'last_checkpoint')

    def reached():
        if not until_last:
            return osp.exists(target)
        try:
            with open(pointer) as f:
                return f.read().strip() == target
        except FileNotFoundError:
            return False

    try:
        while not reached():
            if proc.poll() is not None:
                raise AssertionError('run ended before it could be killed:\n'
                                     + proc.stderr.read()[-4000:])
            if time.time() > deadline:
                raise AssertionError(f'{name} never appeared')
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


# main process: killed once iter_10.pth exists, resumed in the first epoch
# (from iter_5 or iter_10, whichever last_checkpoint names). Persistent
# workers: killed once last_checkpoint names iter_15, so the resumed run
# starts in the second epoch, where an uninterrupted run's workers carry
# the random state of the first epoch and the resumed run's are fresh.
# the workers' case is in the extended tier (-m extended): the same resume
# through the same sampler, with the loader's processes kept across epochs
CASES = [pytest.param(0, False, 'iter_10.pth', False, (5, 10),
                      id='main-process'),
         pytest.param(2, True, 'iter_15.pth', True, (15, 20),
                      id='persistent-workers', marks=pytest.mark.extended)]


@pytest.mark.slow
@pytest.mark.parametrize('num_workers,persistent,kill_at,until_last,resumed',
                         CASES)
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(
        tmp_path, num_workers, persistent, kill_at, until_last, resumed):
    cfg = _config(tmp_path, num_workers, persistent)
    whole = str(tmp_path / 'whole')
    broken = str(tmp_path / 'broken')

    subprocess.run(train_cmd(cfg, whole), cwd=REPO, env=env(), check=True,
                   capture_output=True, timeout=300)

    rc = _kill_after_checkpoint(train_cmd(cfg, broken), broken,
                                kill_at, until_last=until_last)
    assert rc == -signal.SIGKILL
    assert not osp.exists(osp.join(broken, 'iter_22.pth'))
    with open(osp.join(broken, 'last_checkpoint')) as f:
        last = f.read().strip()
    killed_at = int(osp.basename(last)[len('iter_'):-len('.pth')])
    # 11 iterations per epoch: the checkpoint we resume from is mid-epoch
    assert killed_at in resumed and killed_at % 11 != 0

    proc = subprocess.run(train_cmd(cfg, broken, '--resume'), cwd=REPO,
                          env=env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert f'skipping its first {killed_at % 11} batches' in log
    assert f'epoch {killed_at // 11 + 1}' in log

    a = load_state(osp.join(whole, 'iter_22.pth'))
    b = load_state(osp.join(broken, 'iter_22.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 22
    differ = [key for key, value in a['state_dict'].items()
              if not torch.equal(value, b['state_dict'][key])]
    assert differ == [], f'{len(differ)} tensors differ'

    la, lb = logged_scalars(whole), logged_scalars(broken)
    assert sorted(la) == sorted(lb) == list(range(1, 23))
    assert [la[s]['loss'] for s in la] == [lb[s]['loss'] for s in la]


@pytest.mark.slow
def test_resume_with_an_optimizer_that_no_longer_fits_is_a_clear_error(
        tmp_path):
    # one group per parameter (mmengine's constructor), then resumed by a
    # config whose constructor merges them: the state cannot be mapped
    cfg = write_config(tmp_path, batch_size=32, split='val', extra='''
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
optim_wrapper = dict(constructor='DefaultOptimWrapperConstructor')
''')
    run_train(cfg, tmp_path / 'run')
    proc = run_train(cfg, tmp_path / 'run', '--resume', '--cfg-options',
                     'train_cfg.max_epochs=2',
                     'optim_wrapper.constructor='
                     'MergedGroupsOptimWrapperConstructor', check=False)
    assert proc.returncode != 0
    assert 'cannot resume from' in proc.stderr
    assert 'epoch_1.pth' in proc.stderr
    assert 'constructor changed' in proc.stderr
