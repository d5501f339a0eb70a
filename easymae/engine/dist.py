"""Process-group set-up that also works on CPU-only machines.

mmengine's 'pytorch' launcher calls ``torch.cuda.set_device`` and so fails
without a GPU; here gloo is used on CPU and nccl on CUDA, and the slurm
environment is translated to torchrun's variables.

A rank that stops or dies must not leave the others waiting in silence
for torch's default 30 minutes: collectives time out after
``env_cfg.dist_cfg.timeout`` seconds (600 by default), the first
rendezvous after ``env_cfg.dist_cfg.start_timeout`` (1800), and both
timeouts name the ranks that did not answer, found with a monitored
barrier over a spare gloo group (it works under nccl too).
"""
import contextlib
import datetime
import os
import re
import subprocess

import torch
import torch.distributed as dist


def _slurm_env_to_torchrun(port: int = 29500) -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* from slurm's variables."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    os.environ.setdefault('RANK', str(proc_id))
    os.environ.setdefault('WORLD_SIZE', str(ntasks))
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        addr = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
        os.environ['MASTER_ADDR'] = addr.strip() or '127.0.0.1'
    os.environ.setdefault('MASTER_PORT', str(port))


DEFAULT_TIMEOUT_S = 600
DEFAULT_START_TIMEOUT_S = 1800
# after a collective timed out: how long to wait for the roll call
_ROLL_CALL_MAX_S = 60

_monitor = dict(group=None, timeout_s=None, start_timeout_s=None,
                backend=None)


class DistributedTimeoutError(RuntimeError):
    """A collective or the start-up did not complete in time; names the
    ranks that did not answer."""


def _seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(value))


def _missing_ranks(timeout_s: float):
    """(ranks that did not reach a monitored barrier, torch's message);
    ([], '') when all did."""
    group = _monitor['group']
    try:
        dist.monitored_barrier(group=group, timeout=_seconds(timeout_s),
                               wait_all_ranks=True)
        return [], ''
    except RuntimeError as err:
        text = str(err)
    rank = dist.get_rank()
    if rank == 0:
        # "[Rank 0]: Ranks 1, 3 failed to pass monitoredBarrier in ..."
        found = re.search(r'Ranks? ([\d, ]+) failed to pass', text)
        ranks = [int(r) for r in re.findall(r'\d+', found.group(1))] \
            if found else []
    else:
        # other ranks only hear from rank 0
        ranks = [0]
    return ranks, text


def init_distributed(launcher: str, backend: str = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S,
                     start_timeout_s: float = DEFAULT_START_TIMEOUT_S) -> None:
    """Initialise the default process group for ``launcher`` if needed.

    ``timeout_s`` bounds every collective of training; ``start_timeout_s``
    the rendezvous and the start-up roll call, where ranks may start
    minutes apart (slow nodes, image pulls)."""
    if launcher == 'none' or (dist.is_available() and dist.is_initialized()):
        return
    if launcher == 'slurm':
        _slurm_env_to_torchrun()
    elif launcher != 'pytorch':
        raise ValueError(f"launcher must be 'none', 'pytorch' or 'slurm', "
                         f'got {launcher!r}')
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                'MASTER_PORT'):
        if var not in os.environ:
            raise RuntimeError(
                f'--launcher {launcher} needs the environment variable {var};'
                ' start the script with torchrun (or srun for slurm)')
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
    rank, world_size = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
    backend = backend or ('nccl' if use_cuda else 'gloo')
    # the rendezvous (the store) may wait longer than a collective
    store, _, _ = next(dist.rendezvous('env://', rank, world_size,
                                       timeout=_seconds(start_timeout_s)))
    dist.init_process_group(backend=backend, store=store, rank=rank,
                            world_size=world_size,
                            timeout=_seconds(timeout_s))
    _monitor.update(group=dist.new_group(backend='gloo',
                                         timeout=_seconds(start_timeout_s)),
                    timeout_s=timeout_s, start_timeout_s=start_timeout_s,
                    backend=backend)
    missing, text = _missing_ranks(start_timeout_s)
    if missing:
        raise DistributedTimeoutError(
            f'rank {rank}: rank(s) {missing} of {world_size} did not check in '
            f'within {start_timeout_s:g} s of the process group starting '
            '(env_cfg.dist_cfg.start_timeout); did they start, or did they '
            f'fail? ({text})')


def describe_process_group() -> str:
    """One line for the log: backend, size and timeouts; '' if none."""
    if not (dist.is_available() and dist.is_initialized()) or \
            _monitor['timeout_s'] is None:
        return ''
    return (f'process group: {_monitor["backend"]}, {dist.get_world_size()} '
            f'processes; a collective that waits more than '
            f'{_monitor["timeout_s"]:g} s (env_cfg.dist_cfg.timeout) is an '
            'error naming the ranks that did not answer; start-up waited up '
            f'to {_monitor["start_timeout_s"]:g} s '
            '(env_cfg.dist_cfg.start_timeout)')


def _looks_like_timeout(err: BaseException) -> bool:
    text = str(err).lower()
    return 'timed out' in text or 'timeout' in text


@contextlib.contextmanager
def name_missing_ranks(what: str = 'a training step'):
    """Turn a collective's timeout inside the block into an error that
    names the ranks that no longer answer (a stopped, hung or dead
    process), instead of the backend's bare 'Timed out waiting'."""
    try:
        yield
    except RuntimeError as err:
        if _monitor['group'] is None or not _looks_like_timeout(err) or \
                isinstance(err, DistributedTimeoutError):
            raise
        rank = dist.get_rank()
        missing, _ = _missing_ranks(min(_monitor['timeout_s'],
                                        _ROLL_CALL_MAX_S))
        who = (f'rank(s) {missing} did not answer a roll call afterwards: '
               'stopped, hung or dead? Look at their logs'
               if missing else 'every rank answered a roll call afterwards: '
               'one was slower than the timeout')
        raise DistributedTimeoutError(
            f'rank {rank}: a collective in {what} did not complete within '
            f'{_monitor["timeout_s"]:g} s (env_cfg.dist_cfg.timeout); {who}. '
            f'({err})') from err


def close_distributed() -> bool:
    """End a finished run's process groups on every rank together.

    Left to the interpreter's exit, the gloo groups' worker threads were
    torn down while a peer could still be talking to them, and a rank now
    and then aborted with 'terminate called without an active exception'
    after its work was done. So all ranks first meet at a (monitored)
    barrier, then destroy the groups in order. Only for a run that ended
    normally: a failed rank exits at once and the launcher stops the rest.
    Returns whether there was a process group to close."""
    if not (dist.is_available() and dist.is_initialized()):
        return False
    if _monitor['group'] is not None:
        missing, text = _missing_ranks(_monitor['timeout_s'])
        if missing:
            raise DistributedTimeoutError(
                f'rank {dist.get_rank()}: rank(s) {missing} did not reach the '
                f'end of the run within {_monitor["timeout_s"]:g} s '
                f'(env_cfg.dist_cfg.timeout) ({text})')
    else:
        dist.barrier()
    dist.destroy_process_group()  # the default group and every subgroup
    _monitor.update(group=None, timeout_s=None, start_timeout_s=None,
                    backend=None)
    return True
