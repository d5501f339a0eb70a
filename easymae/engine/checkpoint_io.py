"""Checkpoints made of tensors and plain Python values only.

mmengine pickles ``HistoryBuffer`` objects into ``message_hub``, which
``torch.load(weights_only=True)`` (the default since torch 2.6) refuses.
Here they are stored as plain dicts and rebuilt on load, RNG states are
added, and files are written atomically: to a temporary name in the same
folder, flushed to disk, then renamed over the target.
"""
import random

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer

from easymae.fileio.atomic import (  # noqa: F401
    CheckpointWriteError,
    atomic_write_bytes,
    check_writable_dir,
    remove_stale_temporaries,
)

_HB_TAG = '__history_buffer__'


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put``/``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), str(filepath))


def _plain(value):
    """Numpy scalars/arrays -> Python values/tensors, recursively."""
    if isinstance(value, HistoryBuffer):
        logs, counts = value.data
        return {_HB_TAG: True, 'log': torch.from_numpy(np.array(logs)),
                'count': torch.from_numpy(np.array(counts)),
                'max_length': value.max_length}
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _rich(value):
    if isinstance(value, dict):
        if value.get(_HB_TAG):
            return HistoryBuffer(value['log'].numpy().tolist(),
                                 value['count'].numpy().tolist(),
                                 value['max_length'])
        return {k: _rich(v) for k, v in value.items()}
    return value


def message_hub_to_plain(state: dict) -> dict:
    return _plain(state)


def message_hub_from_plain(state: dict) -> dict:
    return _rich(state)


def get_rng_state() -> dict:
    np_state = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(np_state[0], torch.from_numpy(np_state[1].copy()),
               int(np_state[2]), int(np_state[3]), float(np_state[4])),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(_to_tuple(state['python']))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, keys.numpy(), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _to_tuple(x):
    return tuple(_to_tuple(v) for v in x) if isinstance(x, (list, tuple)) \
        else x
