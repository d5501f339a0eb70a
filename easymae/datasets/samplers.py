"""mmengine's DefaultSampler, also telling the dataset the seed and epoch.

``PipelineDataset`` seeds each sample's randomness in DataLoader workers
from (seed, epoch, index), which makes a resumed run with persistent
workers identical to an uninterrupted one. The sampler already knows both
numbers (the run's seed, the epoch set by ``DistSamplerSeedHook`` or the
iteration loop at each epoch start), so it passes them on. Registered
under mmengine's name in the ``easymae`` scope, so existing configs get it.
"""
from typing import Optional

from mmengine.dataset import DefaultSampler as _MMDefaultSampler

from easymae.registry import DATA_SAMPLERS


def _epoch_aware(dataset):
    """The dataset (maybe inside mmengine wrappers) that takes a seed."""
    for _ in range(8):
        if hasattr(dataset, 'set_epoch') and hasattr(dataset, 'sample_seed'):
            return dataset
        dataset = getattr(dataset, 'dataset', None)
        if dataset is None:
            return None
    return None


@DATA_SAMPLERS.register_module(name='DefaultSampler', force=True)
class DefaultSampler(_MMDefaultSampler):
    """Same arguments and order as mmengine's."""

    def __init__(self, dataset, shuffle: bool = True,
                 seed: Optional[int] = None, round_up: bool = True):
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        # before the DataLoader exists, so before any worker starts
        self._target = _epoch_aware(dataset)
        if self._target is not None:
            self._target.sample_seed = self.seed
            self._target.set_epoch(self.epoch)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        if self._target is not None:
            self._target.set_epoch(epoch)
