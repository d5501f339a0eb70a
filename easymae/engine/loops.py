"""Training loops that resume exactly where a killed run stopped.

mmengine's loops lose or repeat work on resume in three ways, fixed here:

* ``EpochBasedTrainLoop`` restarts a half-done epoch from its first batch, so
  a checkpoint saved by iteration (``CheckpointHook(by_epoch=False)``) in the
  middle of an epoch trains some batches twice. Ours skips the batches of the
  current epoch that the checkpoint already contains.
* The RNG state saved in the checkpoint must be restored right before the
  next batch is *loaded* (with ``num_workers=0`` the random transforms draw
  from the main process's generators), i.e. after the data loader has been
  advanced past the finished batches; both loops do exactly that.
* Every ``iter(DataLoader)`` draws a base seed from the global torch
  generator, which shifts the masking noise by an amount that depends on
  when the loader was (re)started. The train loader gets a private
  generator instead (worker seeds come from mmengine's ``worker_init_fn``,
  so nothing else changes).
* In DataLoader workers, persistent ones included, each sample's
  randomness is seeded from (seed, epoch, index) by ``PipelineDataset``,
  so a resumed run's fresh workers produce what the uninterrupted run's
  long-lived ones did (see ``easymae.datasets.samplers``).

Both are registered under mmengine's names in the ``easymae`` scope, so
existing ``train_cfg`` dicts pick them up.
"""
import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop as _MMEpochBasedTrainLoop
from mmengine.runner import IterBasedTrainLoop as _MMIterBasedTrainLoop

from easymae.registry import LOOPS
from .dist import describe_process_group, name_missing_ranks


def _private_generator(runner, dataloader) -> None:
    seed = runner.seed if runner.seed is not None else 0
    dataloader.generator = torch.Generator().manual_seed(int(seed))
    # here rather than at set-up: the log file exists by now
    described = describe_process_group()
    if described:
        runner.logger.info(described)


def restore_pending_rng_state(runner) -> None:
    """Put back the RNG state a resumed checkpoint carried, once."""
    state = getattr(runner, 'pending_rng_state', None)
    if state is not None:
        from .checkpoint_io import set_rng_state
        set_rng_state(state)
        runner.pending_rng_state = None


@LOOPS.register_module(name='EpochBasedTrainLoop', force=True)
class EpochBasedTrainLoop(_MMEpochBasedTrainLoop):
    """mmengine's epoch loop, resumable in the middle of an epoch."""

    def __init__(self, runner, dataloader, *args, **kwargs):
        super().__init__(runner, dataloader, *args, **kwargs)
        _private_generator(runner, self.dataloader)

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        # batches of this epoch already trained before the checkpoint
        done = self._iter - self._epoch * len(self.dataloader)
        # a streaming dataset reads past them itself, without decoding
        skipper = getattr(self.dataloader.dataset, 'skip_batches', None)
        if done > 0 and skipper is not None:
            skipper(self._epoch, done)
        batches = iter(self.dataloader)
        if done > 0:
            print_log(f'resuming in the middle of epoch {self._epoch + 1}: '
                      f'skipping its first {done} batches', logger='current')
            for _ in range(done if skipper is None else 0):
                next(batches)
        restore_pending_rng_state(self.runner)
        for idx, data_batch in enumerate(batches, start=max(done, 0)):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx, data_batch) -> None:
        with name_missing_ranks(f'iteration {self._iter + 1}'):
            super().run_iter(idx, data_batch)


@LOOPS.register_module(name='IterBasedTrainLoop', force=True)
class IterBasedTrainLoop(_MMIterBasedTrainLoop):
    """mmengine's iteration loop, with the RNG restored after advancing."""

    def __init__(self, runner, dataloader, *args, **kwargs):
        super().__init__(runner, dataloader, *args, **kwargs)
        # (the first iterator, made above, drew its seed at the same point in
        # an interrupted and an uninterrupted run; later ones use this)
        _private_generator(runner, self.dataloader)

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            print_log(f'resuming at iteration {self._iter}: advancing the '
                      'data loader past the batches already trained',
                      logger='current')
            for _ in range(self._iter):
                next(self.dataloader_iterator)
        restore_pending_rng_state(self.runner)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_iter(self, data_batch) -> None:
        with name_missing_ranks(f'iteration {self._iter + 1}'):
            super().run_iter(data_batch)
