"""Scheduler lengths that follow the training loop.

A scheduler's ``begin`` or ``end`` may name a length instead of a number:

* ``'warmup'``: the warm-up length, the config's top-level
  ``warmup_epochs`` (or ``warmup_iters`` for a scheduler with
  ``by_epoch=False``);
* ``'max'``: the length of training, ``train_cfg.max_epochs`` (or
  ``train_cfg.max_iters``).

A base schedule written this way is set by those two keys alone, from a
leaf config or the command line::

    --cfg-options train_cfg.max_epochs=10 warmup_epochs=1

gives a 1-epoch warm-up and a cosine that ends with epoch 10. Numbers are
left as they are. The runner resolves the names when it builds the
schedulers; the config check resolves them the same way to warn about
schedules a run would cut off.
"""
import copy
from typing import Optional

WARMUP, MAX = 'warmup', 'max'
NAMES = (WARMUP, MAX)


class ScheduleError(ValueError):
    """A scheduler length that cannot be resolved."""


def unit_keys(by_epoch: bool) -> dict:
    """Where each named length lives, for a scheduler counted in epochs or
    in iterations."""
    if by_epoch:
        return {WARMUP: 'warmup_epochs', MAX: 'train_cfg.max_epochs'}
    return {WARMUP: 'warmup_iters', MAX: 'train_cfg.max_iters'}


def _lengths(cfg, by_epoch: bool) -> dict:
    train_cfg = cfg.get('train_cfg') or {}
    unit = 'epochs' if by_epoch else 'iters'
    return {WARMUP: cfg.get(f'warmup_{unit}'),
            MAX: train_cfg.get(f'max_{unit}')}


def _resolve_one(sched: dict, cfg, where: str) -> dict:
    """Fills in ``sched`` (a copy; a ConfigDict stays one) in place."""
    by_epoch = sched.get('by_epoch', True)
    lengths = _lengths(cfg, by_epoch)
    keys = unit_keys(by_epoch)
    out = sched
    for field in ('begin', 'end'):
        value = sched.get(field)
        if not isinstance(value, str):
            continue
        if value not in NAMES:
            raise ScheduleError(
                f'{where}.{field}={value!r}: a number, {WARMUP!r} '
                f'({keys[WARMUP]}) or {MAX!r} ({keys[MAX]})')
        length = lengths[value]
        if length is None:
            raise ScheduleError(
                f'{where}.{field}={value!r} needs {keys[value]}, which '
                'the config does not set'
                + ('' if by_epoch else ' (this scheduler counts '
                   'iterations: by_epoch=False)'))
        out[field] = length
    return out


def resolve_param_scheduler(schedulers, cfg):
    """``schedulers`` (a dict, a list of dicts, or one list per optimizer
    name) with every named ``begin``/``end`` replaced by its length in
    ``cfg``. Returns a copy; built schedulers pass through."""
    if schedulers is None:
        return None
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        # one scheduler list per optimizer of an OptimWrapperDict
        return {name: resolve_param_scheduler(value, cfg)
                for name, value in schedulers.items()}
    single = not isinstance(schedulers, (list, tuple))
    items = [schedulers] if single else list(schedulers)
    out = []
    for i, sched in enumerate(items):
        if isinstance(sched, dict):
            sched = _resolve_one(copy.deepcopy(sched), cfg,
                                 f'param_scheduler[{i}]')
        out.append(sched)
    return out[0] if single else out


def named_lengths(sched: dict) -> dict:
    """field -> name for the ``begin``/``end`` a scheduler config gives by
    name (``{'end': 'warmup'}``)."""
    if not isinstance(sched, dict):
        return {}
    return {field: sched[field] for field in ('begin', 'end')
            if sched.get(field) in NAMES}


def describe(schedulers) -> Optional[str]:
    """One line per resolved scheduler list, for the log:
    ``LinearLR epochs 0-3, CosineAnnealingLR epochs 3-30``."""
    if not isinstance(schedulers, (list, tuple)):
        return None
    parts = []
    for sched in schedulers:
        if not isinstance(sched, dict):
            return None
        unit = 'epochs' if sched.get('by_epoch', True) else 'iters'
        parts.append(f"{sched.get('type')} {unit} {sched.get('begin', 0)}-"
                     f"{sched.get('end', 'end')}")
    return ', '.join(parts)
