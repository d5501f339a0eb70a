"""Process-group set-up that also works on CPU-only machines.

mmengine's 'pytorch' launcher calls ``torch.cuda.set_device`` and so fails
without a GPU; here gloo is used on CPU and nccl on CUDA, and the slurm
environment is translated to torchrun's variables.
"""
import os
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


def init_distributed(launcher: str, backend: str = None,
                     timeout_s: int = 1800) -> None:
    """Initialise the default process group for ``launcher`` if needed."""
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
    import datetime
    dist.init_process_group(
        backend=backend or ('nccl' if use_cuda else 'gloo'),
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        timeout=datetime.timedelta(seconds=timeout_s))
