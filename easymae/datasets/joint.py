"""Joint image + text batches from two independent datasets.

``JointDataset`` holds an image dataset and a text dataset side by side.
``JointSampler`` deals each step ``image_per_step`` image indices then
``text_per_step`` text indices (the loader's ``batch_size`` is their sum),
and ``joint_collate`` turns such a batch into

    {'inputs': {'image': (N, 3, H, W) uint8, 'text': (M, T) ids},
     'data_samples': {'image': {'gt_label', ...},
                      'text': {'attention_mask', 'token_type_ids', ...}}}

The order is a pure function of (seed, epoch, step), as ``DefaultSampler``'s:
each modality is shuffled per pass with a generator seeded by (seed,
modality, pass), padded to a multiple of the processes and split
``rank::world``, so processes see disjoint shares of both. An epoch is one
pass over the ``epoch_by`` modality; the other one runs on as an endless
stream across epochs (its own passes), so resuming mid-epoch, which replays
the sampler from the epoch start, lands on the same samples.
In DataLoader workers each sample's randomness is seeded from (seed,
modality, pass, index), as ``PipelineDataset`` does for single datasets.
"""
import math
import random
from typing import Iterator, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import FUNCTIONS
from torch.utils.data import Dataset, Sampler, get_worker_info

from easymae.registry import DATA_SAMPLERS, DATASETS

MODALITIES = ('image', 'text')


@DATASETS.register_module()
class JointDataset(Dataset):
    """Args:
        image: the image dataset (config or instance), e.g. a
            ``PipelineDataset`` of ``Digits`` packed by ``PackInputs``.
        text: the text dataset, e.g. a ``PipelineDataset`` of
            ``LineCorpus`` packed by ``PackTextInputs``.

    Indices are tuples ``(modality, index, pass, image_per_step,
    text_per_step)`` made by ``JointSampler``.
    """

    def __init__(self, image=None, text=None):
        for name, value in (('image', image), ('text', text)):
            if value is None:
                raise ValueError(
                    f'JointDataset: no {name} dataset '
                    f'(train_dataloader.dataset.{name}); a joint run needs '
                    'both an image and a text source')
        self.datasets = {
            name: DATASETS.build(cfg) if isinstance(cfg, dict) else cfg
            for name, cfg in (('image', image), ('text', text))}
        for name, ds in self.datasets.items():
            if len(ds) == 0:
                raise ValueError(f'JointDataset: the {name} dataset is '
                                 'empty')
        self.sample_seed: Optional[int] = None

    @property
    def metainfo(self) -> dict:
        return dict(getattr(self.datasets['image'], 'metainfo', {}) or {})

    def __len__(self) -> int:
        return sum(len(ds) for ds in self.datasets.values())

    def _seed_sample(self, words) -> None:
        if self.sample_seed is None or get_worker_info() is None:
            return
        seed = int(np.random.SeedSequence(
            [int(self.sample_seed) % 2**63, *words]).generate_state(
                1, np.uint64)[0])
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def __getitem__(self, index: Tuple) -> dict:
        modality, idx, pas, n_image, n_text = index
        self._seed_sample([MODALITIES.index(modality), int(pas), int(idx)])
        return dict(modality=modality, step=(n_image, n_text),
                    sample=self.datasets[modality][idx])


def _joint_dataset(dataset) -> JointDataset:
    for _ in range(8):
        if isinstance(dataset, JointDataset):
            return dataset
        dataset = getattr(dataset, 'dataset', None)
    raise TypeError('JointSampler needs a JointDataset '
                    '(train_dataloader.dataset.type)')


@DATA_SAMPLERS.register_module()
class JointSampler(Sampler):
    """Args:
        dataset: a ``JointDataset`` (filled in by the runner).
        image_per_step, text_per_step: examples of each per step and
            process; ``train_dataloader.batch_size`` must be their sum.
        shuffle: reshuffle each pass.
        seed: None: a random seed shared by all processes.
        epoch_by: 'image' or 'text': the modality one epoch passes over.
    """

    def __init__(self, dataset, image_per_step: int, text_per_step: int,
                 shuffle: bool = True, seed: Optional[int] = None,
                 epoch_by: str = 'image'):
        if epoch_by not in MODALITIES:
            raise ValueError(f"JointSampler: epoch_by must be 'image' or "
                             f"'text', got {epoch_by!r}")
        for name, n in (('image_per_step', image_per_step),
                        ('text_per_step', text_per_step)):
            if not isinstance(n, int) or n < 1:
                raise ValueError(f'JointSampler: {name} must be an int >= '
                                 f'1, got {n!r}')
        self.dataset = _joint_dataset(dataset)
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.shuffle = shuffle
        self.epoch_by = epoch_by
        self.epoch = 0
        self.per_step = dict(image=image_per_step, text=text_per_step)
        self.sizes = {m: len(ds) for m, ds in self.dataset.datasets.items()}
        self.dataset.sample_seed = self.seed
        self.setup(*get_dist_info())

    def setup(self, rank: int, world_size: int) -> None:
        """This process's place among ``world_size`` (from the process
        group at construction)."""
        self.rank, self.world_size = rank, world_size
        # per process and pass, padded as DefaultSampler(round_up=True)
        self.shares = {m: math.ceil(n / self.world_size)
                       for m, n in self.sizes.items()}
        by = self.epoch_by
        self.steps = self.shares[by] // self.per_step[by]
        if self.steps == 0:
            raise ValueError(
                f'JointSampler: {self.shares[by]} {by} samples '
                f'per process make no step of {self.per_step[by]}; '
                f'lower {self.epoch_by}_per_step')
        self._cache = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self, modality: str, pas: int) -> torch.Tensor:
        """This process's indices of ``modality`` in pass ``pas``."""
        key = (modality, pas)
        if key not in self._cache:
            n = self.sizes[modality]
            if self.shuffle:
                words = [self.seed % 2**63, MODALITIES.index(modality), pas]
                g = torch.Generator().manual_seed(int(np.random.SeedSequence(
                    words).generate_state(1, np.uint64)[0] % 2**63))
                perm = torch.randperm(n, generator=g)
            else:
                perm = torch.arange(n)
            total = self.shares[modality] * self.world_size
            perm = perm.repeat(math.ceil(total / n))[:total]
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = perm[self.rank::self.world_size]
        return self._cache[key]

    def _index(self, modality: str, step: int, j: int):
        per, share = self.per_step[modality], self.shares[modality]
        if modality == self.epoch_by:
            pas, k = self.epoch, step * per + j
        else:  # an endless stream across epochs
            pas, k = divmod((self.epoch * self.steps + step) * per + j,
                            share)
        return modality, int(self.order(modality, pas)[k]), pas

    def __iter__(self) -> Iterator[Tuple]:
        counts = (self.per_step['image'], self.per_step['text'])
        for step in range(self.steps):
            for modality in MODALITIES:
                for j in range(self.per_step[modality]):
                    yield (*self._index(modality, step, j), *counts)

    def __len__(self) -> int:
        return self.steps * sum(self.per_step.values())


@FUNCTIONS.register_module()
def joint_collate(batch) -> dict:
    """A list of ``JointDataset`` items (one step) -> the joint batch."""
    n_image, n_text = batch[0]['step']
    parts = {m: [b['sample'] for b in batch if b['modality'] == m]
             for m in MODALITIES}
    if (len(parts['image']), len(parts['text'])) != (n_image, n_text):
        raise ValueError(
            f'joint_collate: a step of JointSampler is {n_image} images + '
            f'{n_text} texts but this batch holds {len(parts["image"])} + '
            f'{len(parts["text"])}: set train_dataloader.batch_size to '
            f'{n_image + n_text} (image_per_step + text_per_step) and '
            'leave drop_last on')
    out = {m: default_collate(parts[m]) for m in MODALITIES}
    return dict(inputs={m: out[m]['inputs'] for m in MODALITIES},
                data_samples={m: out[m].get('data_samples', {})
                              for m in MODALITIES})
