"""Named lengths in learning-rate schedules, and schedules a run will not
play out.

A scheduler's ``begin`` or ``end`` may name a length instead of a number:
'warmup' is the config's top-level ``warmup_epochs`` (``warmup_iters`` for
a scheduler with ``by_epoch=False``), 'max' is ``train_cfg.max_epochs``
(``train_cfg.max_iters``). A base schedule written this way is set by
those two keys alone, from a leaf config or the command line
(``--cfg-options train_cfg.max_epochs=10 warmup_epochs=1``). The runner
resolves the names when it builds the schedulers; the config checks
resolve them the same way. Numbers are left as they are.
"""
import copy
from typing import Optional

from easymae.config_check.errors import ConfigError

WARMUP, MAX = 'warmup', 'max'


def schedule_unit_keys(by_epoch: bool) -> dict:
    """Where each named length lives, for a scheduler counted in epochs or
    in iterations."""
    if by_epoch:
        return {WARMUP: 'warmup_epochs', MAX: 'train_cfg.max_epochs'}
    return {WARMUP: 'warmup_iters', MAX: 'train_cfg.max_iters'}


def _resolve_scheduler(sched: dict, cfg, where: str) -> dict:
    """Fills in ``sched`` (a copy; a ConfigDict stays one) in place."""
    by_epoch = sched.get('by_epoch', True)
    unit = 'epochs' if by_epoch else 'iters'
    lengths = {WARMUP: cfg.get(f'warmup_{unit}'),
               MAX: (cfg.get('train_cfg') or {}).get(f'max_{unit}')}
    keys = schedule_unit_keys(by_epoch)
    for field in ('begin', 'end'):
        value = sched.get(field)
        if not isinstance(value, str):
            continue
        if value not in lengths:
            raise ConfigError(
                f'{where}.{field}={value!r}: a number, {WARMUP!r} '
                f'({keys[WARMUP]}) or {MAX!r} ({keys[MAX]})')
        if lengths[value] is None:
            raise ConfigError(
                f'{where}.{field}={value!r} needs {keys[value]}, which '
                'the config does not set'
                + ('' if by_epoch else ' (this scheduler counts '
                   'iterations: by_epoch=False)'))
        sched[field] = lengths[value]
    return sched


def _never_runs(given, sched) -> bool:
    """A named range that resolved empty: the run ends before (or as) it
    begins, e.g. a 1-epoch run of a recipe with a 3-epoch warm-up."""
    named = any(isinstance(given.get(f), str) for f in ('begin', 'end'))
    return named and sched.get('begin', 0) >= sched.get('end', float('inf'))


def resolve_param_scheduler(schedulers, cfg, drop_empty=False):
    """``schedulers`` (a dict, a list of dicts, or one list per optimizer
    name) with every named ``begin``/``end`` replaced by its length in
    ``cfg``; ``ConfigError`` for a name that cannot resolve. Returns a
    copy; built schedulers pass through. ``drop_empty`` leaves out the
    schedulers whose named range resolved empty (the runner's choice: such
    a scheduler would never run, and mmengine refuses end <= begin)."""
    if schedulers is None:
        return None
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        # one scheduler list per optimizer of an OptimWrapperDict
        return {name: resolve_param_scheduler(value, cfg, drop_empty)
                for name, value in schedulers.items()}
    single = not isinstance(schedulers, (list, tuple))
    items = [schedulers] if single else list(schedulers)
    out = []
    for i, given in enumerate(items):
        sched = given
        if isinstance(given, dict):
            sched = _resolve_scheduler(copy.deepcopy(given), cfg,
                                       f'param_scheduler[{i}]')
            if drop_empty and _never_runs(given, sched):
                continue
        out.append(sched)
    return out if not single else (out[0] if out else [])


def describe_schedule(schedulers) -> Optional[str]:
    """One line per resolved scheduler list, for the log:
    ``LinearLR epochs 0-3, CosineAnnealingLR epochs 3-30``."""
    if not isinstance(schedulers, (list, tuple)) or \
            not all(isinstance(s, dict) for s in schedulers):
        return None
    return ', '.join(
        f"{s.get('type')} {'epochs' if s.get('by_epoch', True) else 'iters'}"
        f" {s.get('begin', 0)}-{s.get('end', 'end')}" for s in schedulers)


def schedulers_as_built(node):
    """``as_built`` over a scheduler, a list of them, or one list per
    optimizer."""
    if isinstance(node, list):
        return [as_built(s) for s in node]
    if isinstance(node, dict) and 'type' not in node:
        return {k: schedulers_as_built(v) for k, v in node.items()}
    return as_built(node)


def as_built(sched):
    """``sched`` with the values mmengine's own signature is checked
    against: an epoch scheduler converted to iterations may begin or end at
    a fraction of an epoch (mmengine multiplies by the epoch length before
    it builds the iteration scheduler), which the ``int`` annotation would
    refuse."""
    if not isinstance(sched, dict) or not sched.get('convert_to_iter_based') \
            or not sched.get('by_epoch', True):
        return sched
    return {k: int(v) if k in ('begin', 'end') and isinstance(v, float)
            else v for k, v in sched.items()}


def resolved_schedulers(cfg):
    """(param_scheduler with its named lengths resolved, problem or None)."""
    try:
        return resolve_param_scheduler(cfg.get('param_scheduler'), cfg), None
    except ConfigError as err:
        return None, str(err)


def schedule_warnings(cfg) -> list:
    """Learning-rate schedules the training loop will not play out.

    A scheduler whose ``begin``/``end`` is ``'warmup'`` or ``'max'``
    follows ``warmup_epochs`` and ``train_cfg.max_epochs`` (see
    this module's docstring); one given in numbers does not, so
    shortening a run with ``--cfg-options train_cfg.max_epochs=N`` cuts its
    cosine off part-way (or, for a short run of a long recipe, training
    never leaves the warm-up). A warm-up as long as the run does the same.
    That can be wanted, so it is a warning, not an error; it names the
    scheduler and the key to change.
    """
    loop = cfg.get('train_cfg') or {}
    raw = cfg.get('param_scheduler') or []
    resolved, problem = resolved_schedulers(cfg)
    if problem:
        return []  # check_config reports it as an error
    schedulers = resolved or []
    if isinstance(raw, dict):
        raw, schedulers = [raw], [schedulers]
    if 'max_epochs' in loop:
        length, unit, by_epoch = loop['max_epochs'], 'epoch', True
    elif 'max_iters' in loop:
        length, unit, by_epoch = loop['max_iters'], 'iter', False
    else:
        return []
    warmup_key = schedule_unit_keys(by_epoch)[WARMUP]
    found = []
    for i, (sched, given) in enumerate(zip(schedulers, raw)):
        # schedulers counted in the other unit cannot be compared here
        if not isinstance(sched, dict) or \
                sched.get('by_epoch', True) != by_epoch:
            continue
        named = {f: given.get(f) for f in ('begin', 'end')} \
            if isinstance(given, dict) else {}
        name = f"param_scheduler[{i}] ({sched.get('type')})"
        begin, end = sched.get('begin', 0), sched.get('end')
        if begin >= length:
            fix = (f'set {warmup_key} below {length}'
                   if named.get('begin') == WARMUP else
                   f'set param_scheduler.{i}.begin and .end inside the run')
            found.append(
                f'{name} begins at {unit} {begin} but train_cfg.max_{unit}s'
                f'={length}: it never runs; {fix}')
        elif end is not None and end > length:
            share = (length - begin) / (end - begin)
            fix = (f'set {warmup_key} below {length}'
                   if named.get('end') == WARMUP else
                   f"set param_scheduler.{i}.end='max' (or {length}) if "
                   'the run was shortened on purpose')
            found.append(
                f'{name} ends at {unit} {end} but train_cfg.max_{unit}s='
                f'{length}: training stops {share:.0%} of the way through '
                f'it; {fix}')
    return found
