"""The epoch plan of ``ShardDataset``, as pure functions: which shards a
rank and a worker read, how many samples each worker yields, where a
resumed epoch picks up, and the buffered shuffle of a worker's stream.
"""
import random
from typing import List, Sequence

import numpy as np


def seed_of(*words: int) -> int:
    """One 64-bit seed from several integers (seed, epoch, rank, ...)."""
    return int(np.random.SeedSequence(
        [int(w) % 2**63 for w in words]).generate_state(1, np.uint64)[0])


def deal(weights: Sequence[int], order: Sequence[int], bins: int
         ) -> List[List[int]]:
    """Items (in ``order``) dealt into ``bins``: largest first onto the
    least loaded bin, ties to the lower bin; each bin keeps ``order``."""
    pos = {item: n for n, item in enumerate(order)}
    loads = [0] * bins
    out: List[List[int]] = [[] for _ in range(bins)]
    for item in sorted(order, key=lambda i: (-weights[i], pos[i])):
        b = min(range(bins), key=lambda k: (loads[k], k))
        out[b].append(item)
        loads[b] += weights[item]
    return [sorted(b, key=pos.get) for b in out]


def worker_quotas(holds: Sequence[int], samples: int, batch_size: int
                  ) -> List[int]:
    """Split ``samples`` over workers in proportion to what they hold, in
    whole batches (largest remainders first), the partial batch, if any,
    to the worker with the most left over."""
    n = len(holds)
    total = sum(holds)
    if total == 0:
        return [0] * n
    batches, rem = divmod(samples, batch_size)
    quotas = [(h * batches) // total for h in holds]
    frac = [(h * batches) % total for h in holds]
    for w in sorted(range(n), key=lambda w: (-frac[w], w))[
            :batches - sum(quotas)]:
        quotas[w] += 1
    quotas = [q * batch_size for q in quotas]
    if rem:
        left = [h * samples - q * total for h, q in zip(holds, quotas)]
        quotas[max(range(n), key=lambda w: (left[w], -w))] += rem
    return quotas


def resume_point(quotas: Sequence[int], batch_size: int, done: int):
    """Where a DataLoader's first ``done`` batches leave each worker.

    The DataLoader asks its workers round-robin and drops a worker once it
    is exhausted, so batch after batch comes from round r = 0, 1, ... and,
    within a round, from each worker that still has an r-th batch, in
    worker order. Returns (samples taken from each worker, the worker the
    next batch comes from)."""
    nb = [-(-q // batch_size) for q in quotas]
    taken = [0] * len(quotas)
    left, last = done, -1
    for r in range(max(nb, default=0)):
        for w in range(len(quotas)):
            if left and nb[w] > r:
                taken[w] += 1
                left -= 1
                last = w
    taken = [min(t * batch_size, q) for t, q in zip(taken, quotas)]
    return taken, (last + 1) % max(len(quotas), 1)


def shuffled(items, size: int, rng: random.Random, initial: int = 100):
    """Shuffle within a buffer of ``size`` items. Samples flow once the
    buffer holds ``initial`` items; it then takes two items per item given
    until it is full (as webdataset's shuffle does), so an epoch starts
    without waiting for a full buffer."""
    initial = max(1, min(size, initial))
    it = iter(items)
    buf = []
    for item in it:
        buf.append(item)
        if len(buf) < size:
            more = next(it, None)
            if more is not None:
                buf.append(more)
        if len(buf) < initial:
            continue
        i = rng.randrange(len(buf))
        buf[i], buf[-1] = buf[-1], buf[i]
        yield buf.pop()
    rng.shuffle(buf)
    yield from buf
