"""Put the number of bad images skipped into the training log.

``PipelineDataset(on_bad_image='skip')`` replaces an unreadable image by
another sample and counts it in shared memory (so DataLoader workers count
too). This hook reads the count of every rank, adds them up, and logs it as
``bad_images_skipped`` with each log line, plus a warning whenever it grew:
a data set that slowly rots is visible in the log, not silently shrunk.
"""
import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from easymae.registry import HOOKS


def _counting_dataset(dataset):
    """The dataset that counts skips, looking through wrapper datasets."""
    while dataset is not None:
        if hasattr(dataset, 'num_skipped'):
            return dataset
        dataset = getattr(dataset, 'dataset', None)
    return None


@HOOKS.register_module()
class BadImageCounterHook(Hook):
    """Args:
        interval: read and all-reduce the count every this many iterations
            (and at the end of each epoch).
    """

    priority = 'NORMAL'  # before the LoggerHook (BELOW_NORMAL) writes

    def __init__(self, interval: int = 10):
        if interval < 1:
            raise ValueError(f'BadImageCounterHook: interval must be >= 1, '
                             f'got {interval}')
        self.interval = interval
        self.total = 0

    def _count(self, runner) -> int:
        dataset = _counting_dataset(getattr(runner.train_dataloader,
                                            'dataset', None))
        count = dataset.num_skipped if dataset is not None else 0
        if dist.is_available() and dist.is_initialized():
            t = torch.tensor([count], dtype=torch.int64)
            if dist.get_backend() != 'gloo':
                t = t.cuda()
            dist.all_reduce(t)
            count = int(t.item())
        return count

    def _update(self, runner) -> None:
        count = self._count(runner)
        if count > self.total:
            runner.logger.warning(
                f'{count - self.total} bad image(s) skipped since the last '
                f'report, {count} in this run (see the warnings above for '
                'the files)')
        self.total = count
        runner.message_hub.update_scalar('train/bad_images_skipped', count)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._update(runner)

    def after_train_epoch(self, runner) -> None:
        self._update(runner)
