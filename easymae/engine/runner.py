"""mmengine's Runner with the platform fixes easymae needs, made once here.

* CPU-only distributed runs: gloo process group, DDP without device ids.
* Learning-rate scaling by the *effective* batch (GPUs x batch x
  accumulation), and the effective batch and resulting lr logged at start.
* Checkpoints that load with ``weights_only=True`` (see ``CheckpointHook``).
* The work dir is checked for writability before anything is built, so an
  unwritable or missing mount fails at once, naming the folder.
* Resuming with an optimizer that no longer fits the checkpoint's state
  says so, rather than torch's bare parameter-group error.
* ``train_cfg=dict(by_epoch=...)`` without a ``type`` gets easymae's
  resumable loops (see ``loops.py``) rather than mmengine's.
* ``compile = True`` (or a dict of ``torch.compile`` options) compiles the
  model's training forward, not mmengine's whole ``train_step``.
"""
import torch
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner

from easymae.config_check import ConfigError, compile_problems
from easymae.registry import RUNNERS
from .checkpoint_io import check_writable_dir
from .dist import init_distributed


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

    def resume(self, filename, *args, **kwargs):
        try:
            return super().resume(filename, *args, **kwargs)
        except ValueError as err:
            if 'parameter group' not in str(err):
                raise
            raise ValueError(
                f'cannot resume from {filename}: its optimizer state does not '
                f'fit the optimizer this config builds ({err}). The '
                'optimizer, its paramwise_cfg or its constructor changed '
                'since the checkpoint was written; resume with the config '
                'saved beside the checkpoint, or start a new run from its '
                'weights with load_from') from err

    def setup_env(self, env_cfg: dict) -> None:
        # mmengine's pytorch launcher calls torch.cuda.set_device: start the
        # process group ourselves first (gloo on CPU); mmengine then skips it.
        if self.distributed and not is_distributed():
            dist_cfg = dict(env_cfg.get('dist_cfg', {}))
            backend = dist_cfg.get('backend')
            if not torch.cuda.is_available():
                backend = 'gloo'
            init_distributed(self.launcher, backend=backend,
                             timeout_s=dist_cfg.get('timeout', 1800))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
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
