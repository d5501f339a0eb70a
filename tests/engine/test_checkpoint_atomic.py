"""Checkpoints are atomic: a process killed while writing, or a write that
fails half-way (file-size limit, the kernel's real EFBIG), leaves the
previous checkpoint intact and loadable; max_keep_ckpts is honoured; an
unwritable work dir fails at start with its name."""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
import torch
from reliab_helpers import REPO, env, load_state, write_config

from easymae.apis import build_runner, load_config
from easymae.engine.checkpoint_io import (
    CheckpointWriteError,
    check_writable_dir,
)

# Writes ckpt.pth (small) with the library's atomic writer, then starts to
# overwrite it with a 100 MB (kill) or 8 MB (size limit) one, in a child
# process.
WRITER = r'''
import os, sys, resource, signal, torch
from easymae.engine.checkpoint_io import atomic_write_bytes
import io
path, mode = sys.argv[1], sys.argv[2]
def blob(n):
    buf = io.BytesIO()
    torch.save({'state_dict': {'w': torch.full((n,), 1.5)}}, buf)
    return buf.getvalue()
atomic_write_bytes(blob(1000), path)
print('first written', flush=True)
big = blob(25_000_000 if mode == 'kill' else 2_000_000)
if mode == 'limit':
    # the kernel refuses to grow any file past 1 MB: a real failed write
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
atomic_write_bytes(big, path)
print('second written', flush=True)
'''


def _writer(tmp_path, mode):
    script = tmp_path / 'writer.py'
    script.write_text(WRITER)
    path = str(tmp_path / 'ckpt.pth')
    return path, subprocess.Popen([sys.executable, str(script), path, mode],
                                  cwd=REPO, env=env(), text=True,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)


def _assert_first_checkpoint_intact(path):
    state = load_state(path)
    assert torch.equal(state['state_dict']['w'], torch.full((1000,), 1.5))


@pytest.mark.slow
def test_sigkill_during_save_keeps_previous_checkpoint(tmp_path):
    path, proc = _writer(tmp_path, 'kill')
    try:
        assert proc.stdout.readline().strip() == 'first written'
        # wait until the temporary file is being written, then kill
        deadline = time.time() + 60
        while not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]:
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _assert_first_checkpoint_intact(path)
    # the half-written temporary is left behind, hidden; the next run's
    # CheckpointHook removes it (see test below)
    tmps = [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
    assert tmps and all(n.startswith('.ckpt.pth.') for n in tmps)


@pytest.mark.slow
def test_failed_write_midway_is_a_clear_error_and_keeps_old(tmp_path):
    path, proc = _writer(tmp_path, 'limit')
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert 'first written' in out and 'second written' not in out
    assert 'CheckpointWriteError' in err
    assert f'could not write {path!r}' in err
    assert 'the previous file is kept' in err
    _assert_first_checkpoint_intact(path)
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def _runner(tmp_path, work_dir, max_iters=5, resume=None, **options):
    extra = "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', " \
            f"max_iters={max_iters})\n"
    cfg = load_config(write_config(tmp_path, ckpt_interval=1,
                                   ckpt_by_epoch=False, max_keep=2,
                                   extra=extra),
                      dict(experiment_name=uuid.uuid4().hex, **options))
    return build_runner(cfg, work_dir=str(work_dir), resume=resume)


@pytest.mark.slow
def test_max_keep_ckpts_and_stale_temporaries(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / '.iter_3.pth.abc123.tmp').write_bytes(b'half a checkpoint')
    runner = _runner(tmp_path, work)
    runner.train()
    ckpts = sorted(n for n in os.listdir(work) if n.endswith('.pth'))
    assert ckpts == ['iter_4.pth', 'iter_5.pth']
    assert not [n for n in os.listdir(work) if n.endswith('.tmp')]
    with open(work / 'last_checkpoint') as f:
        assert f.read() == str(work / 'iter_5.pth')
    assert load_state(work / 'iter_5.pth')['meta']['iter'] == 5


@pytest.mark.slow
def test_checkpoint_left_by_an_interrupted_cleanup_is_removed(tmp_path):
    work = tmp_path / 'work'
    _runner(tmp_path, work, max_iters=3).train()
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == \
        ['iter_2.pth', 'iter_3.pth']
    # a run killed after writing iter_3.pth but before deleting iter_1.pth:
    # the saved list of kept checkpoints ([2, 3]) no longer names iter_1
    shutil.copy(work / 'iter_2.pth', work / 'iter_1.pth')
    assert load_state(work / 'iter_3.pth')['message_hub']['runtime_info'][
        'keep_ckpt_ids'] == [2, 3]
    # not this hook's checkpoints: other names, kept whatever their number
    (work / 'best_loss_iter_1.pth').write_bytes(b'a best checkpoint')
    (work / 'iter_1.pth.bak').write_bytes(b'a copy the user made')
    runner = _runner(tmp_path, work, max_iters=5, resume=True)
    runner.train()
    names = sorted(os.listdir(work))
    assert [n for n in names if n.startswith('iter_')] == \
        ['iter_1.pth.bak', 'iter_4.pth', 'iter_5.pth']
    assert 'best_loss_iter_1.pth' in names
    logs = [osp.join(d, f) for d, _, fs in os.walk(work) for f in fs
            if f.endswith('.log')]
    text = ''.join(open(p).read() for p in logs)
    assert "removed 'iter_1.pth'" in text


@pytest.mark.skipif(os.geteuid() == 0 and sys.platform != 'win32',
                    reason='root may write into read-only folders')
def test_unwritable_work_dir_fails_at_start(tmp_path):
    ro = tmp_path / 'ro'
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(CheckpointWriteError, match='is not writable'):
        _runner(tmp_path, ro / 'work')


def test_work_dir_that_is_a_file_fails_at_start(tmp_path):
    # works as root too: a path under a regular file cannot be a folder
    blocker = tmp_path / 'blocker'
    blocker.write_text('not a folder')
    with pytest.raises(CheckpointWriteError) as info:
        _runner(tmp_path, blocker / 'work')
    assert f"work_dir {str(blocker / 'work')!r} is not writable" in \
        str(info.value)
    with pytest.raises(CheckpointWriteError, match='checkpoint folder'):
        check_writable_dir(str(blocker / 'x'), what='checkpoint folder')
