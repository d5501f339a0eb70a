"""Stop, or skip the step, when the loss or a gradient is not finite.

One NaN in an AdamW update poisons every weight it touches, and the run
then trains on garbage until someone reads the log. The guard looks at the
loss and the gradients after ``backward`` and *before* the optimizer step,
so the weights (and the last checkpoint) stay good:

* ``action='stop'`` raises ``NonFiniteError`` naming the iteration, the
  loss and the last good checkpoint to resume from;
* ``action='skip'`` zeroes the gradients, skips that optimizer step, warns,
  and counts skipped steps (logged as ``skipped_steps`` and kept in the
  checkpoint); more than ``max_consecutive_skips`` in a row is a stop.

mmengine has no hook point between ``backward`` and ``step``, so the guard
wraps the ``step`` (and ``update_params``, to see the loss) of the run's
optim wrapper(s) when training starts. Under fp16 loss scaling an overflow
is routine and the ``GradScaler`` already skips those steps, so there only
the loss is checked. Under DDP the verdict is all-reduced so that every rank
takes the same decision.
"""
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict

from easymae.registry import HOOKS


class NonFiniteError(RuntimeError):
    """The loss or a gradient became NaN or infinite."""


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Args:
        action: 'stop' (default) or 'skip'.
        check_grad: also check gradients (not only the loss).
        max_consecutive_skips: in 'skip' mode, this many bad steps in a row
            stop the run anyway (the model is diverging, not hiccuping).
    """

    priority = 'HIGH'

    def __init__(self, action: str = 'stop', check_grad: bool = True,
                 max_consecutive_skips: int = 10):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NaNGuardHook: action must be 'stop' or 'skip'"
                             f', got {action!r}')
        if max_consecutive_skips < 1:
            raise ValueError('NaNGuardHook: max_consecutive_skips must be >= '
                             f'1, got {max_consecutive_skips}')
        self.action = action
        self.check_grad = check_grad
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped = 0
        self.consecutive = 0
        self._loss = None

    def before_train(self, runner) -> None:
        # a resumed run keeps counting where the interrupted one stopped
        self.skipped = int(runner.message_hub.get_info('nan_guard_skipped', 0))
        wrappers = runner.optim_wrapper
        if isinstance(wrappers, OptimWrapperDict):
            wrappers = list(wrappers.values())
        else:
            wrappers = [wrappers]
        for wrapper in wrappers:
            self._guard(runner, wrapper)

    def _guard(self, runner, wrapper) -> None:
        if getattr(wrapper, '_nan_guarded', False):
            return
        update_params, step = wrapper.update_params, wrapper.step

        def guarded_update_params(loss, *args, **kwargs):
            self._loss = loss.detach()
            return update_params(loss, *args, **kwargs)

        def guarded_step(*args, **kwargs):
            fault = self._fault(wrapper)
            if fault is None:
                self.consecutive = 0
                return step(*args, **kwargs)
            self._handle(runner, wrapper, fault)

        wrapper.update_params = guarded_update_params
        wrapper.step = guarded_step
        wrapper._nan_guarded = True

    def _fault(self, wrapper):
        """'loss' or 'gradient' when one is not finite (on any rank)."""
        bad_loss = self._loss is not None and not bool(
            torch.isfinite(self._loss).all())
        bad_grad = False
        scaled_fp16 = getattr(wrapper, 'loss_scaler', None) is not None
        if self.check_grad and not bad_loss and not scaled_fp16:
            grads = [p.grad for group in wrapper.optimizer.param_groups
                     for p in group['params'] if p.grad is not None]
            if grads:
                norms = torch._foreach_norm(grads)
                bad_grad = not bool(torch.isfinite(torch.stack(norms)).all())
        code = 2 if bad_loss else (1 if bad_grad else 0)
        if dist.is_available() and dist.is_initialized():
            flag = torch.tensor([code], dtype=torch.int32,
                                device=self._loss.device
                                if self._loss is not None else 'cpu')
            if dist.get_backend() == 'gloo':
                flag = flag.cpu()
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            code = int(flag.item())
        return {0: None, 1: 'gradient', 2: 'loss'}[code]

    def _last_checkpoint(self, runner) -> str:
        last = runner.message_hub.get_info('last_ckpt')
        if last is None:
            path = osp.join(runner.work_dir, 'last_checkpoint')
            if osp.isfile(path):
                with open(path) as f:
                    last = f.read().strip() or None
        return last or 'none saved yet'

    def _handle(self, runner, wrapper, fault: str) -> None:
        loss = (f'{self._loss.float().mean().item():.4g}'
                if self._loss is not None else 'unknown')
        where = (f'non-finite {fault} at iteration {runner.iter + 1} '
                 f'(epoch {runner.epoch + 1}), loss={loss}')
        advice = ('; last good checkpoint: '
                  f'{self._last_checkpoint(runner)}. Lower the learning '
                  'rate, set optim_wrapper.clip_grad=dict(max_norm=...), '
                  'check the weight decay, or set the NaNGuardHook to '
                  "action='skip'")
        self.consecutive += 1
        if self.action == 'stop' or \
                self.consecutive > self.max_consecutive_skips:
            if self.action == 'skip':
                where += (f' ({self.consecutive} bad steps in a row, more '
                          f'than max_consecutive_skips='
                          f'{self.max_consecutive_skips})')
            raise NonFiniteError(where + advice)
        wrapper.zero_grad()
        self.skipped += 1
        runner.message_hub.update_info('nan_guard_skipped', self.skipped)
        runner.logger.warning(f'{where}: optimizer step skipped '
                              f'({self.skipped} skipped so far)')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.skipped:
            runner.message_hub.update_scalar('train/skipped_steps',
                                             self.skipped)
