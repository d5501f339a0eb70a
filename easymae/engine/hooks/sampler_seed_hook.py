"""mmengine's DistSamplerSeedHook, also reaching streaming datasets.

A DataLoader over an IterableDataset takes no sampler, so mmengine's hook
(which calls ``sampler.set_epoch``) never tells a ``ShardDataset`` the
epoch. This one also hands such a dataset the run's seed (the same on
every rank, so all ranks deal the shards alike), the loader's batch size
and ``drop_last`` (so each worker yields whole batches) and the epoch,
before the epoch's workers start. Registered under mmengine's name in the
``easymae`` scope, so ``default_hooks.sampler_seed`` picks it up.
"""
from mmengine.dist import get_rank
from mmengine.hooks import DistSamplerSeedHook as _MMDistSamplerSeedHook
from torch.utils.data import IterableDataset

from easymae.registry import HOOKS


def streaming_dataset(dataset):
    """The epoch-aware IterableDataset, looking through wrappers."""
    for _ in range(8):
        if dataset is None:
            return None
        if isinstance(dataset, IterableDataset) and hasattr(
                dataset, 'set_epoch') and hasattr(dataset, 'configure'):
            return dataset
        dataset = getattr(dataset, 'dataset', None)
    return None


def run_seed(runner) -> int:
    """The run's seed as every rank has it (``diff_rank_seed`` adds the
    rank to the seed of each process)."""
    seed = runner.seed
    randomness = getattr(runner, '_randomness_cfg', None) or {}
    if randomness.get('diff_rank_seed'):
        seed -= get_rank()
    return int(seed)


def prepare_streaming(runner, loader, epoch: int) -> None:
    dataset = streaming_dataset(getattr(loader, 'dataset', None))
    if dataset is None:
        return
    batch = getattr(loader, 'batch_size', None)
    if dataset.batch_size not in (None, batch):
        raise ValueError(
            f'{type(dataset).__name__}: batch_size={dataset.batch_size} '
            f'but the DataLoader batches {batch}; leave the dataset\'s '
            'batch_size unset (the loader\'s is used)')
    dataset.configure(seed=run_seed(runner), batch_size=batch,
                      drop_last=getattr(loader, 'drop_last', False))
    dataset.set_epoch(epoch)


@HOOKS.register_module(name='DistSamplerSeedHook', force=True)
class DistSamplerSeedHook(_MMDistSamplerSeedHook):
    """Same as mmengine's, plus streaming datasets (see above)."""

    def before_train_epoch(self, runner) -> None:
        super().before_train_epoch(runner)
        prepare_streaming(runner, runner.train_loop.dataloader,
                          runner.epoch)
