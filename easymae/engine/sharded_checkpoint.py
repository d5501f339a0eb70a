"""Sharded training checkpoints for FSDP2 runs.

A checkpoint is a folder, ``epoch_N.dcp`` or ``iter_N.dcp``, written with
``torch.distributed.checkpoint`` (DCP): every rank writes its own shards of
the model and the optimizer state (``get_state_dict``) into ``.distcp``
files, rank 0 the ``.metadata`` and ``extra.pth`` (meta, message hub,
parameter schedulers and RNG state: plain values, read with
``weights_only=True``). No rank ever holds the whole model.

Atomic: all ranks write into ``.NAME.partial`` beside the target, and rank
0 renames it to ``NAME`` once every file is complete and fsynced, so a kill
during a save leaves the previous checkpoint (and ``last_checkpoint``,
which still names it) usable; the partial folder goes at the next save.
The folder must be on storage all ranks share (as with any DCP
checkpoint).

Resume reshards: DCP maps the saved shards onto however many processes
load them (2 -> 1 works). The folder is checked against the model before
anything is loaded, so a checkpoint of another model is an error naming
the folder and the keys, and the model is left untouched.
"""
import os
import os.path as osp
import shutil
import time

import torch
import torch.distributed as dist

from easymae.fileio.dcp import (
    EXTRA_FILE,
    dcp_load,
    is_dcp_folder,
    read_dcp_metadata,
    tensor_shapes,
)
from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    CheckpointKindError,
    CheckpointMismatchError,
    summarise,
)

SHARDED_SUFFIX = '.dcp'
_PARTIAL = '.partial'
_OLD = '.old'


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def _barrier() -> None:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_sharded(folder: str) -> list:
    """Delete what an interrupted sharded save left (rank 0 only)."""
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        if name.startswith('.') and (name.endswith(SHARDED_SUFFIX + _PARTIAL)
                                     or name.endswith(SHARDED_SUFFIX + _OLD)):
            shutil.rmtree(osp.join(folder, name), ignore_errors=True)
            removed.append(name)
    return removed


def _optimizer(runner):
    from mmengine.optim import OptimWrapper
    wrapper = runner.optim_wrapper
    if not isinstance(wrapper, OptimWrapper):
        raise TypeError('sharded checkpoints need one OptimWrapper (not an '
                        f'OptimWrapperDict), got {type(wrapper).__name__}')
    return wrapper


def _scheduler_states(runner):
    schedulers = runner.param_schedulers
    if schedulers is None:
        return None
    if isinstance(schedulers, dict):
        return {name: [s.state_dict() for s in group]
                for name, group in schedulers.items()}
    return [s.state_dict() for s in schedulers]


def save_sharded_checkpoint(runner, out_dir: str, filename: str,
                            save_optimizer: bool = True,
                            save_param_scheduler: bool = True,
                            meta: dict = None, by_epoch: bool = True) -> str:
    """Write the folder ``out_dir/filename`` (collective: every rank)."""
    import mmengine
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict
    final = osp.join(out_dir, filename)
    partial = osp.join(out_dir, '.' + filename + _PARTIAL)
    old = osp.join(out_dir, '.' + filename + _OLD)
    if _rank() == 0:
        for name in remove_stale_sharded(out_dir):
            runner.logger.warning(f'removed {name!r} in {out_dir}: left by '
                                  'an interrupted sharded save')
        os.makedirs(partial)
    _barrier()

    meta = dict(meta or {})
    if by_epoch:
        meta.setdefault('epoch', runner.epoch + 1)
        meta.setdefault('iter', runner.iter)
    else:
        meta.setdefault('epoch', runner.epoch)
        meta.setdefault('iter', runner.iter + 1)
    meta.update(seed=runner.seed, experiment_name=runner.experiment_name,
                time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
                mmengine_version=mmengine.__version__,
                sharded=dict(world_size=dist.get_world_size()))

    wrapper = _optimizer(runner)
    model_sd, optim_sd = get_state_dict(runner.model, wrapper.optimizer)
    state = {'model': model_sd}
    if save_optimizer:
        state['optimizer'] = optim_sd
    dcp.save(state, storage_writer=dcp.FileSystemWriter(partial,
                                                        sync_files=True))

    if _rank() == 0:
        checkpoint = dict(meta=meta, message_hub=runner.message_hub
                          .state_dict())
        if save_optimizer:
            # what the wrapper keeps besides the optimizer (a loss scaler)
            extra = {k: v for k, v in wrapper.state_dict().items()
                     if k not in ('state', 'param_groups')}
            checkpoint['optim_wrapper'] = extra
        if save_param_scheduler and runner.param_schedulers is not None:
            checkpoint['param_schedulers'] = _scheduler_states(runner)
        if hasattr(runner.train_dataloader.dataset, 'metainfo'):
            meta.update(dataset_meta=runner.train_dataloader.dataset.metainfo)
        # the config as JSON, the message hub as plain values, RNG states
        runner.call_hook('before_save_checkpoint', checkpoint=checkpoint)
        with open(osp.join(partial, EXTRA_FILE), 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(partial)
        # swap in: the previous folder of this name (a rerun of the same
        # step after a resume) is moved aside, then deleted
        if osp.exists(final):
            os.rename(final, old)
        os.rename(partial, final)
        _fsync_dir(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    _barrier()
    return final


def check_model_fits(folder: str, model_sd: dict) -> None:
    """Raise ``CheckpointMismatchError`` naming the folder and keys when
    the sharded checkpoint's model is not this model (nothing loaded)."""
    saved = tensor_shapes(read_dcp_metadata(folder), 'model.')
    ours = {key: tuple(value.shape) for key, value in model_sd.items()
            if isinstance(value, torch.Tensor)}
    missing = sorted(set(ours) - set(saved))
    unexpected = sorted(set(saved) - set(ours))
    shapes = sorted(f'{k} {saved[k]} vs model {ours[k]}'
                    for k in set(saved) & set(ours) if saved[k] != ours[k])
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f'missing in the checkpoint: {summarise(missing)}')
        if unexpected:
            parts.append(f'not in the model: {summarise(unexpected)}')
        if shapes:
            parts.append(f'other shapes: {summarise(shapes, 4)}')
        raise CheckpointMismatchError(
            f'{folder}: this sharded checkpoint does not fit the model '
            f'({"; ".join(parts)}); nothing was loaded. Resume with the '
            'config that wrote it')


def resume_sharded_checkpoint(runner, folder: str,
                              resume_optimizer: bool = True,
                              resume_param_scheduler: bool = True) -> dict:
    """Load a folder written by :func:`save_sharded_checkpoint` into the
    runner (collective); returns the plain part (meta, message hub)."""
    from torch.distributed.checkpoint.state_dict import (
        get_state_dict,
        set_state_dict,
    )
    folder = str(folder).rstrip('/')
    if not is_dcp_folder(folder):
        raise CheckpointKindError(
            f'cannot resume from {folder}: not a complete sharded checkpoint '
            '(no .metadata file)')
    extra_path = osp.join(folder, EXTRA_FILE)
    if not osp.isfile(extra_path):
        raise CheckpointKindError(
            f'cannot resume from {folder}: it has no {EXTRA_FILE} (epoch, '
            'iteration, schedulers), so it is not an easymae training '
            'checkpoint; tools/consolidate_checkpoint.py turns its weights '
            'into a file for load_from')
    checkpoint = load_file(extra_path)
    meta = checkpoint.get('meta', {})
    if not isinstance(meta, dict) or 'iter' not in meta:
        raise CheckpointKindError(f'cannot resume from {folder}: '
                                  f'{EXTRA_FILE} has no meta epoch/iter')
    if isinstance(meta.pop('config', None), str):
        runner.logger.warning(f'{folder}: meta["config"] (Python text) is '
                              'ignored; checkpoint text is never run')

    wrapper = _optimizer(runner)
    model_sd, optim_sd = get_state_dict(runner.model, wrapper.optimizer)
    check_model_fits(folder, model_sd)
    has_optim = any(key.startswith('optimizer.') for key in
                    read_dcp_metadata(folder).state_dict_metadata)
    state = {'model': model_sd}
    if resume_optimizer and has_optim:
        state['optimizer'] = optim_sd
    try:
        dcp_load(state, folder)
    except Exception as err:
        if 'optimizer' in state and 'optimizer' in str(err):
            raise ValueError(
                f'cannot resume from {folder}: its optimizer state does not '
                f'fit the optimizer this config builds ({err}); resume with '
                'the config saved beside the checkpoint') from err
        raise
    set_state_dict(runner.model, wrapper.optimizer,
                   model_state_dict=state['model'],
                   optim_state_dict=state.get('optimizer', {}))
    if 'optimizer' in state and checkpoint.get('optim_wrapper'):
        scaler = checkpoint['optim_wrapper'].get('loss_scaler')
        if scaler is not None and \
                getattr(wrapper, 'loss_scaler', None) is not None:
            wrapper.loss_scaler.load_state_dict(scaler)

    runner.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    runner.train_loop._epoch = meta['epoch']
    runner.train_loop._iter = meta['iter']
    resumed_seed = meta.get('seed')
    current_seed = runner._randomness_cfg.get('seed')
    if resumed_seed is not None and resumed_seed != current_seed:
        runner._randomness_cfg.update(seed=resumed_seed)
        runner.set_randomness(**runner._randomness_cfg)
    runner.message_hub.load_state_dict(checkpoint['message_hub'])
    schedulers = checkpoint.get('param_schedulers')
    if resume_param_scheduler and schedulers is not None and \
            runner.param_schedulers is not None:
        runner.param_schedulers = runner.build_param_scheduler(
            runner.param_schedulers)
        if isinstance(runner.param_schedulers, dict):
            for name, group in runner.param_schedulers.items():
                for sched, saved in zip(group, schedulers[name]):
                    sched.load_state_dict(saved)
        else:
            for sched, saved in zip(runner.param_schedulers, schedulers):
                sched.load_state_dict(saved)
    saved_world = meta.get('sharded', {}).get('world_size')
    runner.logger.info(
        f'resumed from the sharded checkpoint {folder} (written by '
        f'{saved_world} process(es), loaded by {dist.get_world_size()}): '
        f'epoch {runner.epoch}, iter {runner.iter}')
    runner._has_loaded = True
    return checkpoint
