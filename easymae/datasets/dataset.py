"""The dataset: a data source plus a pipeline, with a bad-image policy."""
import copy
import logging
import multiprocessing
import random
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log
from torch.utils.data import Dataset, get_worker_info

from easymae.registry import DATA_SOURCES, DATASETS, TRANSFORMS
from .transforms.loading import BadImageError


def build_pipeline(pipeline: Sequence[Union[dict, callable]]) -> List:
    steps = []
    for step in pipeline:
        steps.append(TRANSFORMS.build(step) if isinstance(step, dict)
                     else step)
    return steps


@DATASETS.register_module()
class PipelineDataset(Dataset):
    """``data_source[idx]`` -> each pipeline step in turn -> a packed sample.

    Args:
        data_source: config (or instance) of a registered data source.
        pipeline: transform configs, applied in order.
        on_bad_image: 'error' (default) stops with the file's name; 'skip'
            replaces the sample by another one, warns with the file's name
            and counts it in ``num_skipped``, never silently. The count
            lives in shared memory, so skips inside DataLoader worker
            processes are counted too; ``BadImageCounterHook`` logs it.
        max_skips: consecutive bad samples tolerated in 'skip' mode before
            giving up (a folder of only broken files is still an error).

    Randomness in DataLoader workers: before each sample, a worker seeds
    ``random``, ``numpy`` and ``torch`` from (run seed, epoch, sample
    index), so a sample's random augmentation does not depend on which
    worker loads it or on what that worker loaded before. Without this,
    persistent workers carry their random state from one epoch to the next
    while a resumed run's workers start fresh, and the resumed run
    diverges. easymae's ``DefaultSampler`` hands the seed and the epoch
    over (``sample_seed``, ``set_epoch``); with no seed set (another
    sampler) the workers keep the global streams mmengine seeded. With
    ``num_workers=0`` samples draw from the main process's streams, which
    a resumed run restores from the checkpoint.
    """

    def __init__(self, data_source, pipeline=(), on_bad_image: str = 'error',
                 max_skips: int = 100):
        if on_bad_image not in ('error', 'skip'):
            raise ValueError(f"on_bad_image must be 'error' or 'skip', got "
                             f'{on_bad_image!r}')
        self.data_source = (DATA_SOURCES.build(data_source)
                            if isinstance(data_source, dict) else data_source)
        self.pipeline = build_pipeline(pipeline)
        self.on_bad_image = on_bad_image
        self.max_skips = max_skips
        # shared with DataLoader workers (fork or spawn alike)
        self._num_skipped = multiprocessing.Value('q', 0)
        self.skipped_files: List[str] = []  # this process's only
        # per-sample seeding in workers (see above); the epoch is shared
        # memory because persistent workers outlive the epoch they began in
        self.sample_seed: Optional[int] = None
        self._epoch = multiprocessing.Value('q', 0)

    def set_epoch(self, epoch: int) -> None:
        """The epoch that the next samples belong to (called between
        epochs, when no worker is loading)."""
        self._epoch.value = int(epoch)

    def _seed_sample(self, idx: int) -> None:
        if self.sample_seed is None or get_worker_info() is None:
            return
        words = [int(self.sample_seed) % 2**63, int(self._epoch.value),
                 int(idx)]
        seed = int(np.random.SeedSequence(words).generate_state(
            1, np.uint64)[0])
        random.seed(seed)
        np.random.seed(seed % 2**32)
        # the CPU generator only: transforms run on the CPU in workers, and
        # torch.manual_seed (which also walks the accelerator generators)
        # costs ~50x more per sample
        torch.default_generator.manual_seed(seed)

    @property
    def num_skipped(self) -> int:
        """Bad samples replaced so far, in this process and its workers."""
        return int(self._num_skipped.value)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.data_source.metainfo)

    def __len__(self) -> int:
        return len(self.data_source)

    def prepare(self, idx: int) -> dict:
        results = self.data_source[idx]
        for step in self.pipeline:
            results = step(results)
        return results

    def __getitem__(self, idx: int) -> dict:
        # replacements are drawn from a generator seeded by the requested
        # index: reproducible, and the run's random streams are not shifted
        replacements = random.Random(idx)
        self._seed_sample(idx)
        for _ in range(self.max_skips + 1):
            try:
                return self.prepare(idx)
            except BadImageError as e:
                if self.on_bad_image == 'error':
                    raise BadImageError(
                        f'{e} (sample {idx} of '
                        f'{type(self.data_source).__name__}; set '
                        'on_bad_image="skip" to replace bad samples '
                        'instead)') from e
                with self._num_skipped.get_lock():
                    self._num_skipped.value += 1
                self.skipped_files.append(str(e))
                print_log(f'skipped a bad sample ({e}); replaced by another',
                          logger='current', level=logging.WARNING)
                idx = replacements.randrange(len(self))
        raise BadImageError(f'{self.max_skips + 1} bad images in a row; last '
                            f'was: {self.skipped_files[-1]}')
