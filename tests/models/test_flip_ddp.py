"""Two real processes (torchrun, gloo, CPU) give the loss and gradients of
one process on the whole batch: features are gathered with their gradients,
and each rank scores its own pairs against the global batch (open_clip's
local_loss), so its logits are (local x global) and the mean of the ranks'
losses is the global-batch loss."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from flip_utils import REPO

WORKER = osp.join(REPO, 'tests', 'flip_ddp_worker.py')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(cmd, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    # a clean launch: no distributed variables left over from elsewhere
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE',
                'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK'):
        env.pop(var, None)
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _close(a, b):
    """Equal up to float32 summation order: embedding-table gradients sum
    many contributions, so the error scales with the tensor's largest
    entry, not with each element."""
    return (a - b).abs().max() <= 1e-5 * b.abs().max() + 1e-7


@pytest.mark.slow(seconds=60)
def test_two_process_loss_and_grads_match_one_process(tmp_path):
    single, half, ddp = (str(tmp_path / f) for f in
                         ('single.pt', 'half.pt', 'ddp.pt'))
    _run([sys.executable, WORKER, single], tmp_path)
    _run([sys.executable, WORKER, half, 'local-only'], tmp_path)
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
          '--master_addr=127.0.0.1', f'--master_port={_free_port()}', WORKER,
          ddp], tmp_path)
    one = torch.load(single, weights_only=True)
    two = torch.load(ddp, weights_only=True)
    alone = torch.load(half, weights_only=True)
    assert two['world'] == 2 and one['world'] == 1
    assert torch.allclose(two['loss'], one['loss'], rtol=1e-5, atol=1e-6)
    # a rank's loss is not its local 4-pair loss: it has 8 pairs' negatives
    assert not torch.allclose(two['rank_loss'], alone['loss'], atol=1e-3)
    assert set(two['grads']) == set(one['grads'])
    for name, g in one['grads'].items():
        assert _close(two['grads'][name], g), name
    # each rank's logits: its 4 rows against all 8 columns, both directions
    assert two['logit_shapes'] == [(4, 8), (4, 8)]
    assert one['logit_shapes'] == [(8, 8), (8, 8)]
    # the local loss gives the gradients of the full (8 x 8) matrix loss
    # computed on every rank, as before
    assert set(two['full_grads']) == set(two['grads'])
    for name, g in two['full_grads'].items():
        assert _close(two['grads'][name], g), name
