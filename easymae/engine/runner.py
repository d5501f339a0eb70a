"""mmengine's Runner with the platform fixes easymae needs, made once here.

* CPU-only distributed runs: gloo process group, DDP without device ids.
* Learning-rate scaling by the *effective* batch (GPUs x batch x
  accumulation), and the effective batch and resulting lr logged at start.
* Checkpoints that load with ``weights_only=True`` (see ``CheckpointHook``),
  and every load through easymae's safe, strict loader: ``load_from`` via
  hub's converting loader (found in ``CHECKPOINT_LOADERS``), ``--resume``
  key for key, refusing files that are not training checkpoints. The config
  is stored in checkpoints as JSON data, never as Python text.
* The work dir is checked for writability before anything is built, so an
  unwritable or missing mount fails at once, naming the folder.
* Resuming with an optimizer that no longer fits the checkpoint's state
  says so, rather than torch's bare parameter-group error.
* ``train_cfg=dict(by_epoch=...)`` without a ``type`` gets easymae's
  resumable loops (see ``loops.py``) rather than mmengine's.
* ``begin``/``end`` of a scheduler given as ``'warmup'``/``'max'`` are
  resolved from ``warmup_epochs`` and ``train_cfg`` (see
  ``config_check.schedules``).
* ``compile = True`` (or a dict of ``torch.compile`` options) compiles the
  model's training forward, not mmengine's whole ``train_step``.
"""
import os.path as osp
import shlex
import sys

import torch
from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner

from easymae.config_check import (
    ConfigError,
    compile_problems,
    describe_schedule,
    resolve_param_scheduler,
)
from easymae.fileio.checkpoint_config import config_to_json
from easymae.fileio.dcp import is_dcp_folder
from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    CheckpointKindError,
    describe_checkpoint,
    is_training_checkpoint,
    load_state_dict_strict,
    state_dict_of,
)
from easymae.registry import CHECKPOINT_LOADERS, MODEL_WRAPPERS, RUNNERS
from .checkpoint_io import check_writable_dir
from .dist import DEFAULT_START_TIMEOUT_S, DEFAULT_TIMEOUT_S, init_distributed
from .fsdp import (
    FSDP_TYPES,
    fsdp_config_problems,
    fully_shard_model,
    is_fsdp_config,
    is_fully_sharded,
    start_single_process_group,
)
from .sharded_checkpoint import (
    SHARDED_SUFFIX,
    resume_sharded_checkpoint,
    save_sharded_checkpoint,
)


@RUNNERS.register_module()
class EasyRunner(Runner):

    def __init__(self, *args, **kwargs):
        work_dir = kwargs.get('work_dir', args[1] if len(args) > 1 else None)
        if work_dir is not None:
            check_writable_dir(work_dir, what='work_dir')
        # set by CheckpointHook on resume, consumed by the train loop
        self.pending_rng_state = None
        super().__init__(*args, **kwargs)

    @classmethod
    def from_cfg(cls, cfg):
        problems = fsdp_config_problems(cfg)
        if problems:
            raise ValueError('model_wrapper_cfg.type='
                             f'{cfg.model_wrapper_cfg["type"]!r}: '
                             + '; '.join(problems))
        if cfg.get('work_dir') is not None:
            check_writable_dir(cfg['work_dir'], what='work_dir')
        return super().from_cfg(cfg)

    def build_train_loop(self, loop):
        if isinstance(loop, dict) and 'type' not in loop:
            loop = dict(loop)
            by_epoch = loop.pop('by_epoch', True)
            loop['type'] = ('EpochBasedTrainLoop' if by_epoch
                            else 'IterBasedTrainLoop')
        return super().build_train_loop(loop)

    def build_param_scheduler(self, scheduler):
        # begin/end='warmup'|'max' follow warmup_epochs and train_cfg, so
        # train_cfg.max_epochs=N alone re-times the whole schedule
        # a run shorter than the warm-up has no room for what follows it:
        # that scheduler is left out (the config check warns about it)
        scheduler = resolve_param_scheduler(scheduler, self.cfg,
                                            drop_empty=True)
        lines = scheduler.values() if isinstance(scheduler, dict) and \
            'type' not in scheduler else [scheduler]
        for line in filter(None, map(describe_schedule, lines)):
            self.logger.info(f'param_scheduler: {line}')
        return super().build_param_scheduler(scheduler)

    def _maybe_compile(self, target: str) -> None:
        # mmengine compiles all of train_step, optimizer step and hooks
        # included; dynamo cannot trace the NaN guard's wrapped update and
        # fails. The model's `loss` (forward + loss, the FLOPs) is what pays
        # to compile; the optimizer update and AMP scaling stay eager.
        compile_cfg = self.cfg.get('compile', None)
        if compile_cfg is None or compile_cfg is False:
            return
        # the config check's own test, for runs built with check_config=False
        problems = compile_problems(compile_cfg)
        if problems:
            raise ConfigError('; '.join(problems))
        options = {} if compile_cfg is True else dict(compile_cfg)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        if getattr(model, '_easymae_compiled', False):
            return
        model.loss = torch.compile(model.loss, **options)
        model._easymae_compiled = True
        self.logger.info(
            f'compiled {type(model).__name__}.loss with torch.compile'
            f'({options}); the first iterations are slow while '
            'it compiles')

    # ------------------------------------------- checkpoints in and out
    # mmengine's load_checkpoint / resume call torch.load without
    # weights_only (so TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 would unpickle
    # code), load tolerantly, and execute config text found in the meta.
    # Every load of the runner comes through here instead.
    def _local_checkpoint(self, filename) -> str:
        if osp.isfile(str(filename)) or is_dcp_folder(filename):
            return str(filename)
        # a zoo name or URL: hub resolves it (registered, so no import)
        return CHECKPOINT_LOADERS.get('resolve')(filename)

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=None):
        """Load ``filename`` into the model, never tolerantly: for
        ``load_from``, hub's converting strict loader; for a resume, the
        whole model, key for key. ``strict``/``revise_keys`` are ignored
        (always strict; a ``module.`` prefix is removed)."""
        preloaded = getattr(self, '_resume_checkpoint', None)
        if preloaded is not None and preloaded[0] == filename:
            path, checkpoint = preloaded
        else:
            path = self._local_checkpoint(filename)
            checkpoint = load_file(path, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        if preloaded is not None:
            state, _ = state_dict_of(checkpoint, path)
            load_state_dict_strict(model, state, path,
                                   kind=describe_checkpoint(checkpoint),
                                   logger=self.logger)
        else:
            CHECKPOINT_LOADERS.get('load_from')(model, checkpoint, path,
                                                logger=self.logger)
        self._has_loaded = True
        return checkpoint

    def resume(self, filename, resume_optimizer=True,
               resume_param_scheduler=True, map_location='default'):
        sharded = str(filename).rstrip('/').endswith(SHARDED_SUFFIX) or \
            is_dcp_folder(filename)
        if sharded != is_fully_sharded(self.model):
            raise CheckpointKindError(
                f'cannot resume from {filename}: ' + (
                    'it is a sharded checkpoint, which only an FSDP2 run '
                    "(model_wrapper_cfg=dict(type='FSDP2'), any number of "
                    'processes) resumes; tools/consolidate_checkpoint.py '
                    'turns it into one file for load_from' if sharded else
                    'an FSDP2 run resumes from a sharded checkpoint (a '
                    f'{SHARDED_SUFFIX} folder), not a single file; start '
                    'from its weights with load_from instead'))
        if sharded:
            return resume_sharded_checkpoint(self, filename, resume_optimizer,
                                             resume_param_scheduler)
        path = self._local_checkpoint(filename)
        device = get_device() if map_location == 'default' else map_location
        checkpoint = load_file(path, map_location=device)
        if not is_training_checkpoint(checkpoint):
            raise CheckpointKindError(
                f'cannot resume from {path}: it is '
                f'{describe_checkpoint(checkpoint)}, not a training '
                'checkpoint (--resume needs the meta with epoch and iter, '
                'the message hub and the optimizer state that training '
                'writes). To start a new run from its weights, use '
                f'load_from={path!r} or a Pretrained init_cfg')
        # mmengine would execute a 'config' text found here (gpu_ids check)
        if isinstance(checkpoint['meta'].pop('config', None), str):
            self.logger.warning(f'{path}: meta["config"] (Python text) is '
                                'ignored; checkpoint text is never run')
        self._resume_checkpoint = (path, checkpoint)
        try:
            return super().resume(path, resume_optimizer,
                                  resume_param_scheduler, device)
        except ValueError as err:
            if 'parameter group' not in str(err):
                raise
            raise ValueError(
                f'cannot resume from {path}: its optimizer state does not '
                f'fit the optimizer this config builds ({err}). The '
                'optimizer, its paramwise_cfg or its constructor changed '
                'since the checkpoint was written; resume with the config '
                'saved beside the checkpoint, or start a new run from its '
                'weights with load_from') from err
        finally:
            self._resume_checkpoint = None

    def call_hook(self, fn_name: str, **kwargs) -> None:
        if fn_name == 'before_save_checkpoint':
            # mmengine stores the config as Python text, which reading back
            # would execute: store it as plain JSON data instead
            kwargs['checkpoint']['meta']['cfg'] = config_to_json(self.cfg)
            # the command line that trained it, for model cards
            kwargs['checkpoint']['meta'].setdefault(
                'command', ' '.join(shlex.quote(a) for a in sys.argv))
        super().call_hook(fn_name, **kwargs)

    def setup_env(self, env_cfg: dict) -> None:
        if not self.distributed and not is_distributed() and \
                is_fsdp_config(self.cfg.get('model_wrapper_cfg')):
            # FSDP2 needs a process group: one process is a group of one
            start_single_process_group()
        # mmengine's pytorch launcher calls torch.cuda.set_device: start the
        # process group ourselves first (gloo on CPU); mmengine then skips it.
        if self.distributed and not is_distributed():
            dist_cfg = dict(env_cfg.get('dist_cfg', {}))
            backend = dist_cfg.get('backend')
            if not torch.cuda.is_available():
                backend = 'gloo'
            # collectives: 600 s; first rendezvous and roll call: 1800 s
            init_distributed(
                self.launcher, backend=backend,
                timeout_s=dist_cfg.get('timeout', DEFAULT_TIMEOUT_S),
                start_timeout_s=dist_cfg.get('start_timeout',
                                             DEFAULT_START_TIMEOUT_S))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if is_fsdp_config(model_wrapper_cfg):
            return self._fully_shard(model_wrapper_cfg, model)
        name = (model_wrapper_cfg or {}).get('type')
        if isinstance(name, str) and MODEL_WRAPPERS.get(name) is None:
            known = sorted(set(MODEL_WRAPPERS.module_dict) | set(
                MODEL_WRAPPERS.parent.module_dict) | set(FSDP_TYPES))
            raise ValueError(f'model_wrapper_cfg.type={name!r}: no such '
                             f'model wrapper; known: {", ".join(known)}')
        if self.distributed and not torch.cuda.is_available():
            # DDP over CPU modules takes no device ids.
            model_wrapper_cfg = dict(model_wrapper_cfg or {})
            model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
            model_wrapper_cfg['device_ids'] = None
            model_wrapper_cfg.setdefault('broadcast_buffers', False)
            model_wrapper_cfg.setdefault(
                'find_unused_parameters',
                self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def _fully_shard(self, model_wrapper_cfg, model):
        """FSDP2 (see ``fsdp.py``). Weights are initialised and
        ``load_from`` applied *before* sharding, on whole tensors, as
        mmengine would do after wrapping a DDP model."""
        options = dict(model_wrapper_cfg)
        options.pop('type')
        model = model.to(get_device())
        if hasattr(model, 'init_weights'):
            model.init_weights()
        if self._load_from is not None and not self._resume:
            path = self._local_checkpoint(self._load_from)
            CHECKPOINT_LOADERS.get('load_from')(
                model, load_file(path), path, logger=self.logger)
            self._has_loaded = True
        return fully_shard_model(model, logger=self.logger, **options)

    def _init_model_weights(self) -> None:
        # a sharded model was initialised before sharding (_fully_shard);
        # mmengine's broadcast of state-dict tensors would mix shards
        if not is_fully_sharded(self.model):
            super()._init_model_weights()

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        if is_fully_sharded(self.model):
            # every rank writes its shards (mmengine's is rank 0 only)
            return save_sharded_checkpoint(
                self, out_dir, filename, save_optimizer=save_optimizer,
                save_param_scheduler=save_param_scheduler, meta=meta,
                by_epoch=by_epoch)
        return super().save_checkpoint(
            out_dir, filename, file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler, meta=meta,
            by_epoch=by_epoch, backend_args=backend_args)

    def effective_batch_size(self) -> int:
        loader = self._train_dataloader
        bs = loader.batch_size if hasattr(loader, 'batch_size') \
            else loader['batch_size']
        accum = 1
        wrapper_cfg = self.cfg.get('optim_wrapper', {}) or {}
        if isinstance(wrapper_cfg, dict):
            accum = int(wrapper_cfg.get('accumulative_counts', 1))
        return self.world_size * bs * accum

    def scale_lr(self, optim_wrapper, auto_scale_lr=None) -> None:
        """lr = base lr x effective batch / base batch (MAE's rule)."""
        eff = self.effective_batch_size()
        wrappers = list(optim_wrapper.values()) if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper]
        ratio = 1.0
        if auto_scale_lr and auto_scale_lr.get('enable', False):
            base = auto_scale_lr['base_batch_size']
            ratio = eff / float(base)
            for wrapper in wrappers:
                assert isinstance(wrapper, OptimWrapper)
                for group in wrapper.optimizer.param_groups:
                    group['lr'] = group['lr'] * ratio
        lrs = sorted({g['lr'] for w in wrappers
                      for g in w.optimizer.param_groups})
        self.logger.info(
            f'world size {self.world_size}, effective batch size {eff} '
            f'(per-process batch x accumulation x world size); lr scaled by '
            f'{ratio:g} -> lr {lrs[-1]:.4g}'
            + (f' (groups from {lrs[0]:.4g})' if len(lrs) > 1 else ''))
