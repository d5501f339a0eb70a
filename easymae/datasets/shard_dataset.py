"""Streaming tar shards: an IterableDataset that reads disjoint shards per
rank and per DataLoader worker, with a known epoch length.

Per epoch (all ranks compute the same plan from the seed and the epoch):

1. the shard list is shuffled (``shuffle=True``), then dealt to ranks and,
   within a rank, to its DataLoader workers, largest-first onto the least
   loaded, so sample counts (from the index) balance;
2. each rank yields ``len(dataset) = epoch_samples // world_size``
   samples, split over its workers in proportion to what their shards
   hold and in whole batches (at most one partial batch, none with
   ``drop_last``), so a DataLoader gives exactly ``len(loader)`` batches;
3. a worker reads its shards in order through a shuffle buffer seeded by
   (seed, epoch, rank, worker), decodes and transforms each sample with
   the pipeline, and stops at its quota. A worker whose shards hold more
   leaves the rest for a later epoch; one whose shards hold fewer starts
   over on them.

Every sample is seen once per epoch when each worker's shards hold a
multiple of the batch size (e.g. shards of equal size, a multiple of the
batch, their number a multiple of ranks x workers); otherwise fewer than
``num_workers x batch_size`` samples per rank are left out of an epoch,
and as many repeated.

Resume in the middle of an epoch: the order of an epoch is deterministic
and the DataLoader takes batches from its workers round-robin, so
``skip_batches(epoch, k)`` works out how many samples of each worker's
stream the first k batches held and which worker the next batch comes
from; the resumed workers take over those streams (the one due next as
worker 0) and read past the trained samples without decoding them. The bound:
exact with the same world size, ``num_workers`` and batch size, except
that bad samples replaced (``on_bad_image='skip'``) before the checkpoint
shift that worker's stream, so up to that many samples are seen twice.

The seed, epoch, batch size and skip live in shared memory: easymae's
``DistSamplerSeedHook`` fills them in before each epoch (a DataLoader with
an IterableDataset takes no sampler, so the usual sampler route is
closed), and persistent workers see the new values. Without the hook,
each pass over the dataset counts as the next epoch.
"""
import logging
import multiprocessing
import random
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from torch.utils.data import IterableDataset, get_worker_info

from easymae.registry import DATASETS
from .dataset import build_pipeline
from .shard_plan import deal, resume_point, seed_of, shuffled, worker_quotas
from .sources.shards import (
    ShardError,
    decode_sample,
    expand_urls,
    iter_tar,
    join_url,
    load_index,
)
from .transforms.loading import BadImageError

# slots of the shared control block
_EPOCH, _SEED, _BATCH, _DROP_LAST, _SKIP_EPOCH, _SKIP_BATCHES = range(6)
MAX_WORKERS = 256


@DATASETS.register_module()
class ShardDataset(IterableDataset):
    """Args:
        urls: shard URLs: paths, ``pipe:`` commands, http(s); a brace
            pattern (``shards-{000000..000009}.tar``) or a list. None:
            every shard of ``index_file``, relative to its folder.
        index_file: the index JSON of ``tools/make_shards.py`` (path or
            http URL): per-shard sample counts and class names.
        num_samples: samples in an epoch over all ranks. Default: the
            index's total; needed without an index. A smaller number
            makes shorter "virtual" epochs.
        pipeline: transform configs, as for ``PipelineDataset``
            (``LoadImage`` decodes the shard's bytes).
        shuffle: shuffle shard order per epoch and samples in a buffer.
        shuffle_buffer: samples held by each worker for shuffling (raw
            bytes, so memory = buffer x sample size per worker).
        seed: shuffling seed; None: the run's seed (set by the hook), 0
            outside a runner.
        rank / world_size: default: the process group's.
        on_bad_image: 'error' (default) stops, naming the shard and key;
            'skip' moves on to the next sample, warns and counts it in
            ``num_skipped``. Unreadable shards are always an error.
        max_skips: consecutive bad samples tolerated in 'skip' mode.
        batch_size / drop_last: the DataLoader's (filled in by the hook);
            without a batch size, workers are given whole samples and the
            loader may give a few more batches than ``len(loader)``.
        classes: class names (default: the index's).
        timeout: seconds to wait on an http shard.
    """

    def __init__(self, urls: Union[str, Sequence[str], None] = None,
                 index_file: Optional[str] = None,
                 num_samples: Optional[int] = None, pipeline=(),
                 shuffle: bool = True, shuffle_buffer: int = 1000,
                 seed: Optional[int] = None, rank: Optional[int] = None,
                 world_size: Optional[int] = None,
                 on_bad_image: str = 'error', max_skips: int = 100,
                 batch_size: Optional[int] = None,
                 drop_last: bool = False,
                 classes: Optional[Sequence[str]] = None,
                 timeout: float = 60.0):
        if on_bad_image not in ('error', 'skip'):
            raise ValueError(f"on_bad_image must be 'error' or 'skip', got "
                             f'{on_bad_image!r}')
        if shuffle_buffer < 1:
            raise ValueError(f'ShardDataset: shuffle_buffer must be >= 1, '
                             f'got {shuffle_buffer}')
        index = load_index(index_file) if index_file else None
        counts: Dict[str, int] = {}
        if index is not None:
            for shard in index['shards']:
                counts[join_url(index_file, shard['url'])] = \
                    int(shard['num_samples'])
        if urls is None:
            if index is None:
                raise ValueError('ShardDataset: give urls, index_file or '
                                 'both')
            self.urls = list(counts)
        else:
            self.urls = expand_urls(urls)
        self.counts: Optional[List[int]] = None
        if index is not None:
            by_name = {u.rsplit('/', 1)[-1]: n for u, n in counts.items()}
            missing = [u for u in self.urls if u not in counts
                       and u.rsplit('/', 1)[-1] not in by_name]
            if missing:
                raise ValueError(f'ShardDataset: {len(missing)} shard(s) not '
                                 f'in the index {index_file!r}, e.g. '
                                 f'{missing[0]!r}')
            self.counts = [counts.get(u, by_name.get(u.rsplit('/', 1)[-1]))
                           for u in self.urls]
        if num_samples is None:
            if self.counts is None:
                raise ValueError(
                    'ShardDataset: the length of an epoch must be known: '
                    'give index_file (per-shard counts) or num_samples')
            num_samples = sum(self.counts)
        self.num_samples = int(num_samples)
        if rank is None or world_size is None:
            rank, world_size = get_dist_info()
        self.rank, self.world_size = int(rank), int(world_size)
        if len(self.urls) < self.world_size:
            raise ValueError(
                f'ShardDataset: {len(self.urls)} shard(s) cannot feed '
                f'{self.world_size} ranks (each reads its own shards); '
                'write more, smaller shards (make_shards --max-count)')
        if self.num_samples < self.world_size:
            raise ValueError(f'ShardDataset: num_samples={self.num_samples} '
                             f'is less than one per rank')
        self.pipeline = build_pipeline(pipeline)
        self.shuffle, self.shuffle_buffer = shuffle, int(shuffle_buffer)
        self.on_bad_image, self.max_skips = on_bad_image, max_skips
        self.timeout = timeout
        if classes is None and index is not None:
            classes = index.get('classes')
        self.classes = list(classes) if classes else None
        self._ctl = multiprocessing.Array('q', [0, -1, 0, 0, -1, 0])
        self._passes = multiprocessing.Array('q', MAX_WORKERS)
        self._num_skipped = multiprocessing.Value('q', 0)
        self.configure(seed=seed, batch_size=batch_size, drop_last=drop_last)

    # --------------------------------------------------------- control
    def configure(self, seed: Optional[int] = None,
                  batch_size: Optional[int] = None,
                  drop_last: Optional[bool] = None) -> None:
        """Set what the DataLoader and the run know (call before workers
        start their next pass)."""
        with self._ctl.get_lock():
            if seed is not None:
                self._ctl[_SEED] = int(seed) % 2**62
            if batch_size is not None:
                if batch_size < 1:
                    raise ValueError(f'batch_size must be >= 1, got '
                                     f'{batch_size}')
                self._ctl[_BATCH] = int(batch_size)
            if drop_last is not None:
                self._ctl[_DROP_LAST] = int(bool(drop_last))

    @property
    def seed(self) -> int:
        return max(int(self._ctl[_SEED]), 0)

    @property
    def batch_size(self) -> Optional[int]:
        return int(self._ctl[_BATCH]) or None

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a new value restarts the count of
        passes; the same value again changes nothing)."""
        with self._ctl.get_lock():
            if self._ctl[_EPOCH] != int(epoch):
                self._ctl[_EPOCH] = int(epoch)
                for i in range(MAX_WORKERS):
                    self._passes[i] = 0

    def skip_batches(self, epoch: int, batches: int) -> None:
        """On resume: the first ``batches`` batches of ``epoch`` were
        trained already; each worker reads past its share of them."""
        if batches and self.batch_size is None:
            raise ValueError('ShardDataset.skip_batches needs the batch size '
                             '(configure(batch_size=...))')
        with self._ctl.get_lock():
            self._ctl[_SKIP_EPOCH] = int(epoch)
            self._ctl[_SKIP_BATCHES] = int(batches)

    @property
    def num_skipped(self) -> int:
        """Bad samples skipped so far, in this process and its workers."""
        return int(self._num_skipped.value)

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    def __len__(self) -> int:
        """Samples per rank in an epoch."""
        return self.num_samples // self.world_size

    # ------------------------------------------------------------ plan
    def plan(self, epoch: int, num_workers: int) -> dict:
        """This rank's shards and sample quota per worker for ``epoch``."""
        n = len(self.urls)
        weights = self.counts or [1] * n
        order = list(range(n))
        if self.shuffle:
            random.Random(seed_of(self.seed, epoch)).shuffle(order)
        mine = deal(weights, order, self.world_size)[self.rank]
        samples = len(self)
        batch = self.batch_size or 1
        if self._ctl[_DROP_LAST]:
            samples -= samples % batch
        groups = deal(weights, mine, num_workers)
        quotas = worker_quotas([sum(weights[i] for i in g) for g in groups],
                               samples, batch)
        return dict(shards=[[self.urls[i] for i in g] for g in groups],
                    quotas=quotas, batch_size=batch)

    # ------------------------------------------------------- iteration
    def _raw_pass(self, shards: List[str]):
        expected = dict(zip(self.urls, self.counts or []))
        for url in shards:
            n = 0
            for raw in iter_tar(url, self.timeout):
                n += 1
                yield raw
            if url in expected and n != expected[url]:
                raise ShardError(
                    f'shard {url!r}: {n} samples, the index says '
                    f'{expected[url]} (truncated, or the index is stale)')

    def _raw_stream(self, shards: List[str], rng: random.Random):
        """The worker's raw samples, pass after pass over its shards."""
        while True:
            got = 0
            for raw in shuffled(self._raw_pass(shards),
                                self.shuffle_buffer if self.shuffle else 1,
                                rng):
                got += 1
                yield raw
            if got == 0:
                raise ShardError(f'shards {shards} hold no samples')

    def _prepare(self, raw: dict) -> dict:
        try:
            results = decode_sample(raw)
        except ValueError as e:
            raise BadImageError(str(e)) from None
        if results['img_bytes'] is None:
            found = sorted(k for k in raw if not k.startswith('__'))
            raise BadImageError(
                f'shard {raw["__url__"]!r}: sample {raw["__key__"]!r} has no'
                f' image file (it has {found})')
        for step in self.pipeline:
            results = step(results)
        return results

    def __iter__(self):
        info = get_worker_info()
        worker, num_workers = (0, 1) if info is None else (info.id,
                                                           info.num_workers)
        if num_workers > MAX_WORKERS:
            raise ValueError(f'ShardDataset: at most {MAX_WORKERS} workers')
        with self._ctl.get_lock():
            epoch = int(self._ctl[_EPOCH]) + int(self._passes[worker])
            self._passes[worker] += 1
            skip_epoch, skip = self._ctl[_SKIP_EPOCH], self._ctl[_SKIP_BATCHES]
        plan = self.plan(epoch, num_workers)
        role, start = worker, 0
        if skip and skip_epoch == epoch:
            taken, first = resume_point(plan['quotas'], plan['batch_size'],
                                        skip)
            # the resumed DataLoader asks worker 0 first: it takes over the
            # stream the next batch would have come from, and so on
            role = (first + worker) % num_workers
            start = taken[role]
        quota = plan['quotas'][role]
        if quota == 0 or start >= quota:
            return
        rng = random.Random(seed_of(self.seed, epoch, self.rank, role))
        stream = self._raw_stream(plan['shards'][role], rng)
        try:
            for _ in range(start):  # read, not decoded
                next(stream)
            yield from self._samples(stream, quota - start, start, epoch,
                                     role, info is not None)
        finally:
            stream.close()

    def _samples(self, stream, count, pos, epoch, worker, in_worker):
        bad_in_a_row = 0
        batch = self.batch_size or 1
        while count > 0:
            raw = next(stream)
            if in_worker and pos % batch == 0:
                # augmentation follows the place in the epoch, not the
                # worker's history (as in PipelineDataset); seeded at each
                # batch start, where a resumed stream also starts
                s = seed_of(self.seed, epoch, self.rank, worker, pos)
                random.seed(s)
                np.random.seed(s % 2**32)
                # the CPU generator only: torch.manual_seed also seeds
                # every accelerator backend, ~50x the cost, and workers
                # run on the CPU
                torch.default_generator.manual_seed(s)
            pos += 1
            try:
                results = self._prepare(raw)
            except BadImageError as e:
                if self.on_bad_image == 'error':
                    raise BadImageError(
                        f'{e} (set on_bad_image="skip" to skip bad samples '
                        'instead)') from e
                with self._num_skipped.get_lock():
                    self._num_skipped.value += 1
                print_log(f'skipped a bad sample ({e})', logger='current',
                          level=logging.WARNING)
                bad_in_a_row += 1
                if bad_in_a_row > self.max_skips:
                    raise BadImageError(f'{bad_in_a_row} bad samples in a '
                                        f'row; last was: {e}') from e
                continue
            bad_in_a_row = 0
            count -= 1
            yield results
