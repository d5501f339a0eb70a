"""Shared by the reliability tests: tiny configs and real training runs.

Every run here is a real ``tools/train.py`` process (or a real torchrun
group) on scikit-learn's digits with a 2-block, 32-wide MAE at 16 px, so a
step takes milliseconds and the tests exercise exactly what users run.
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PYTHON = sys.executable
TRAIN = osp.join(REPO, 'tools', 'train.py')
DIGITS_MAE = osp.join(REPO, 'configs', 'selfsup', 'mae',
                      'mae_vit-tiny-d6-p4_1xb64-30e_digits.py')

# A tiny MAE on 16-px digits; `extra` is appended verbatim to the config.
TINY_MAE = '''
_base_ = [{base!r}]
img = 16
model = dict({model_kw}
    backbone=dict(img_size=img, patch_size=4, embed_dim=32, depth=2,
                  num_heads=2),
    neck=dict(decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2))
train_dataloader = dict(
    batch_size={batch_size}, num_workers={num_workers},
    dataset=dict(data_source=dict(img_size=img, split={split!r}),
                 pipeline={pipeline}))
randomness = dict(seed={seed}, deterministic={deterministic})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={ckpt_interval},
                                     by_epoch={ckpt_by_epoch},
                                     max_keep_ckpts={max_keep}))
log_processor = dict(window_size=1)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                        begin=0, end=5)]
'''

RANDOM_PIPELINE = (
    "[dict(type='RandomResizedCrop', size=img, scale=(0.5, 1.0),"
    " interpolation='bicubic'), dict(type='RandomHorizontalFlip'"
    "), dict(type='PackInputs')]")
FIXED_PIPELINE = "[dict(type='PackInputs')]"


def write_config(folder, name='cfg.py', batch_size=8, num_workers=0,
                 pipeline=RANDOM_PIPELINE, seed=0, deterministic=True,
                 ckpt_interval=1, ckpt_by_epoch=True, max_keep=-1,
                 split='train', model_kw='', extra=''):
    """The tiny config as ``name``; ``extra`` (config text) is merged on top
    of it by ``_base_`` inheritance, so it may override any nested key."""
    path = osp.join(str(folder), name)
    tiny = path[:-3] + '_tiny.py' if extra else path
    with open(tiny, 'w') as f:
        f.write(TINY_MAE.format(
            base=DIGITS_MAE, batch_size=batch_size, num_workers=num_workers,
            pipeline=pipeline, seed=seed, deterministic=deterministic,
            ckpt_interval=ckpt_interval, ckpt_by_epoch=ckpt_by_epoch,
            max_keep=max_keep, split=split, model_kw=model_kw))
    if extra:
        with open(path, 'w') as f:
            f.write(f'_base_ = [{osp.basename(tiny)!r}]\n{extra}')
    return path


def env():
    e = dict(os.environ)
    # one thread per process: the CI machine has 2 cores for everything
    e.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
             PYTHONUNBUFFERED='1',
             # a rank that dies of a signal prints its Python stack
             PYTHONFAULTHANDLER='1',
             PYTHONPATH=os.pathsep.join([REPO, osp.join(REPO, 'tests')]))
    e.pop('RANK', None)
    e.pop('WORLD_SIZE', None)
    return e


def train_cmd(config, work_dir, *args):
    return [PYTHON, TRAIN, str(config), '--work-dir', str(work_dir), *args]


def run_train(config, work_dir, *args, timeout=240, check=True):
    proc = subprocess.run(train_cmd(config, work_dir, *args), cwd=REPO,
                          env=env(), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'train.py failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_torchrun(config, work_dir, *args, nproc=2, timeout=300):
    cmd = [PYTHON, '-m', 'torch.distributed.run', f'--nproc_per_node={nproc}',
           '--master_addr=127.0.0.1', f'--master_port={free_port()}',
           TRAIN, str(config), '--work-dir', str(work_dir),
           '--launcher', 'pytorch', *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'torchrun failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    return proc


def logged_scalars(work_dir):
    """Every ``scalars.json`` record of the run(s) in ``work_dir``, by step
    (a resumed run writes a second timestamped folder)."""
    records = {}
    for stamp in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                for line in f:
                    rec = json.loads(line)
                    records[rec['step']] = rec
    return records


def load_state(path):
    import torch
    return torch.load(path, map_location='cpu', weights_only=True)
