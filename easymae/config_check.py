"""Reject a bad config before anything is built or written.

No hand-written schema: every ``type=`` dict is checked against the
``__init__`` signature of the class it names, recursively, so a new
component is covered as soon as it is registered. Three kinds of mistakes
are caught, each reported with the full key, the value and what is allowed:

* unknown keys (``model.mask_ratoi``), with the closest valid name;
* values of the wrong type, where the signature's annotation says
  (``mask_ratio: float`` given ``'high'``);
* impossible values (mask ratio outside [0, 1), image size not divisible
  by the patch size, ...): the model is built once (on the ``meta`` device
  where its code allows, else on the CPU), so the classes' own argument
  checks run now rather than after the work dir, logs and data loaders
  exist.
"""
import copy
import difflib
import inspect
import typing
from typing import Any, Optional

import torch
from mmengine.registry import DefaultScope

from easymae.registry import (
    DATA_SAMPLERS,
    DATA_SOURCES,
    DATASETS,
    HOOKS,
    LOOPS,
    MODELS,
    OPTIM_WRAPPERS,
    OPTIMIZERS,
    PARAM_SCHEDULERS,
    TRANSFORMS,
)


class ConfigError(ValueError):
    """A config key or value that cannot work."""


# Which registry a ``type=`` dict found under a key belongs to; nested
# dicts of an unlisted key use their parent's registry.
_REGISTRY_BY_KEY = {
    'model': MODELS, 'backbone': MODELS, 'neck': MODELS, 'head': MODELS,
    'data_preprocessor': MODELS,
    'dataset': DATASETS, 'data_source': DATA_SOURCES, 'pipeline': TRANSFORMS,
    'sampler': DATA_SAMPLERS,
    'optim_wrapper': OPTIM_WRAPPERS, 'optimizer': OPTIMIZERS,
    'param_scheduler': PARAM_SCHEDULERS,
    'default_hooks': HOOKS, 'custom_hooks': HOOKS,
    'train_cfg': LOOPS,
}
# Keys not passed to __init__ but taken by the builder or a neighbour.
_CONSUMED_ELSEWHERE = {
    OPTIM_WRAPPERS: {'constructor', 'paramwise_cfg'},
    PARAM_SCHEDULERS: {'convert_to_iter_based'},
}
# Sub-trees whose dicts are not component configs of ours.
_SKIP_KEYS = {'init_cfg', 'paramwise_cfg', 'collate_fn', 'worker_init_fn'}
# DataLoader arguments that mmengine's build_dataloader handles itself.
_LOADER_KEYS = {'dataset', 'sampler', 'batch_sampler', 'collate_fn',
                'worker_init_fn'}


def accepted_arguments(cls) -> Optional[dict]:
    """name -> inspect.Parameter accepted by ``cls(...)``; None when it
    takes any keyword. ``**kwargs`` forwarded to a base class is followed
    up the MRO."""
    params = {}
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else [cls]:
        init = klass.__init__ if inspect.isclass(klass) else klass
        if init is object.__init__:
            break
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        takes_kwargs = False
        for name, p in sig.parameters.items():
            if p.kind is p.VAR_KEYWORD:
                takes_kwargs = True
            elif p.kind is not p.VAR_POSITIONAL and name != 'self':
                params.setdefault(name, p)
        if not takes_kwargs:
            return params
    return None if not params else params


def _type_ok(value, annotation) -> bool:
    """True unless the annotation clearly excludes ``value``."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    if isinstance(annotation, str):
        return True  # postponed annotation: not worth evaluating here
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    return True  # containers, tensors, callables: trust the class


def _describe(annotation) -> str:
    return getattr(annotation, '__name__', None) or str(annotation).replace(
        'typing.', '')


def _registry_for(key: str, parent):
    return _REGISTRY_BY_KEY.get(key, parent)


def _check_component(cfg: dict, path: str, registry, errors: list) -> None:
    type_name = cfg.get('type')
    if isinstance(type_name, str):
        cls = registry.get(type_name)
        if cls is None:
            names = sorted(registry.module_dict)
            if registry.parent is not None:
                names += sorted(registry.parent.module_dict)
            close = difflib.get_close_matches(type_name, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ''
            errors.append(f"{path}.type={type_name!r}: no such "
                          f'{registry.name} is registered{hint}')
            return
    elif type_name is not None and callable(type_name):
        cls = type_name
    else:
        return
    allowed = accepted_arguments(cls)
    if allowed is None:
        return
    extra_ok = _CONSUMED_ELSEWHERE.get(registry, set()) | {'type', '_scope_'}
    for key, value in cfg.items():
        if key in extra_ok:
            continue
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ''
            errors.append(
                f'{path}.{key}={value!r}: {cls.__name__} has no argument '
                f'{key!r}{hint} (it takes: {", ".join(sorted(allowed))})')
        elif not isinstance(value, dict) and \
                not _type_ok(value, allowed[key].annotation):
            errors.append(
                f'{path}.{key}={value!r}: {cls.__name__} expects '
                f'{_describe(allowed[key].annotation)}, got '
                f'{type(value).__name__}')


def _walk(node, path: str, registry, errors: list) -> None:
    if isinstance(node, dict):
        if 'type' in node and registry is not None:
            _check_component(node, path, registry, errors)
        for key, value in node.items():
            if key in _SKIP_KEYS:
                continue
            # inside a component, an argument's name tells its registry;
            # inside a plain dict (default_hooks) keys are just names
            child = _registry_for(key, registry) if 'type' in node \
                else registry
            _walk(value, f'{path}.{key}', child, errors)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _walk(value, f'{path}[{i}]', registry, errors)


def _check_dataloader(cfg: dict, path: str, errors: list) -> None:
    allowed = accepted_arguments(torch.utils.data.DataLoader)
    for key, value in cfg.items():
        if key in _LOADER_KEYS or key in allowed:
            continue
        close = difflib.get_close_matches(key, list(allowed), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ''
        errors.append(f'{path}.{key}={value!r}: DataLoader has no argument '
                      f'{key!r}{hint}')
    batch = cfg.get('batch_size')
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        errors.append(f'{path}.batch_size={batch!r}: must be an integer '
                      '>= 1')


def _build_model_problem(model_cfg) -> Optional[str]:
    """Build the model once so its own argument checks run now. On the
    ``meta`` device first (no memory, no time); a class whose __init__ reads
    tensor values cannot build there, so then on the CPU, with the global
    RNG left untouched."""
    bad_value = (ValueError, TypeError, KeyError, AssertionError)
    try:
        with torch.device('meta'):
            MODELS.build(model_cfg)
        return None
    except bad_value as e:
        return str(e)
    except (NotImplementedError, RuntimeError):
        pass  # a meta-device limitation, not the config's fault
    with torch.random.fork_rng():
        try:
            MODELS.build(model_cfg)
        except bad_value as e:
            return str(e)
    return None


def compile_problems(value) -> list:
    """``compile``: True/False/None, or a dict of ``torch.compile`` options
    (the runner compiles the model's training forward with them)."""
    if value is None or isinstance(value, bool):
        return []
    if not isinstance(value, dict):
        return [f'compile: must be True, False or a dict of torch.compile '
                f'options, got {value!r}']
    allowed = [name for name in inspect.signature(torch.compile).parameters
               if name != 'model']
    problems = []
    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ''
            problems.append(f'compile.{key}: not a torch.compile option '
                            f'(allowed: {", ".join(allowed)}){hint}')
    return problems


# Top-level keys that the runner (mmengine's or ours) reads. Any other
# top-level name is a config variable (``data_root``, ``train_pipeline``),
# unless it is so close to one of these that it is surely a misspelling.
RUNNER_KEYS = (
    'model', 'work_dir', 'experiment_name', 'train_dataloader',
    'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
    'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
    'log_level', 'visualizer', 'vis_backends', 'default_scope', 'randomness',
    'runner_type', 'model_wrapper_cfg', 'find_unused_parameters', 'compile',
    'check_config', 'custom_imports', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'warmup_epochs', 'warmup_iters')


def top_level_problems(cfg) -> list:
    """Top-level names one letter or two away from a runner key
    (``lod_from``): the runner would ignore them silently."""
    problems = []
    for key in cfg.keys():
        if key in RUNNER_KEYS or key.startswith('_'):
            continue
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1, cutoff=0.8)
        if close:
            problems.append(
                f'{key}={cfg[key]!r}: not a key the runner reads (it would '
                f"be ignored); did you mean '{close[0]}'?")
    return problems


def length_and_lr_problems(cfg) -> list:
    """A run that trains nothing, or a negative learning rate."""
    problems = []
    loop = cfg.get('train_cfg')
    if isinstance(loop, dict):
        for key in ('max_epochs', 'max_iters'):
            value = loop.get(key)
            if isinstance(value, (int, float)) and \
                    not isinstance(value, bool) and value < 1:
                problems.append(f'train_cfg.{key}={value!r}: must be >= 1 '
                                '(the run would train nothing)')
    wrapper = cfg.get('optim_wrapper')
    optimizer = wrapper.get('optimizer') if isinstance(wrapper, dict) \
        else None
    lr = optimizer.get('lr') if isinstance(optimizer, dict) else None
    if isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr < 0:
        problems.append(f'optim_wrapper.optimizer.lr={lr!r}: a learning rate '
                        'must be >= 0')
    return problems


def model_num_classes(cfg) -> Optional[int]:
    """``model.head.num_classes`` (or ``model.num_classes``), if set."""
    model = cfg.get('model')
    if not isinstance(model, dict):
        return None
    head = model.get('head')
    value = head.get('num_classes') if isinstance(head, dict) else None
    if value is None:
        value = model.get('num_classes')
    return value if isinstance(value, int) and \
        not isinstance(value, bool) else None


def _labelled_sources(cfg):
    """(key path, data source dict) for every data source of the loaders
    whose class takes ``num_classes``."""
    def walk(node, path):
        if isinstance(node, dict):
            if path.endswith('data_source') and isinstance(
                    node.get('type'), str):
                cls = DATA_SOURCES.get(node['type'])
                allowed = accepted_arguments(cls) if cls is not None else None
                if allowed and 'num_classes' in allowed:
                    yield path, node
            for key, value in node.items():
                yield from walk(value, f'{path}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                yield from walk(value, f'{path}[{i}]')

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        yield from walk(cfg.get(loader), loader)


def share_num_classes(cfg) -> None:
    """Give labelled data sources that take ``num_classes`` and do not set
    it the model's, so each label is checked (naming its file and line)
    when the data is read, not found out of range mid-training."""
    num_classes = model_num_classes(cfg)
    if num_classes is None:
        return
    for _, source in _labelled_sources(cfg):
        source.setdefault('num_classes', num_classes)


def num_classes_problems(cfg) -> list:
    num_classes = model_num_classes(cfg)
    if num_classes is None:
        return []
    return [f'{path}.num_classes={source["num_classes"]!r} but the model has '
            f'{num_classes} classes (model.head.num_classes)'
            for path, source in _labelled_sources(cfg)
            if source.get('num_classes') not in (None, num_classes)]


def check_config_syntax(path: str) -> None:
    """A syntax error in the config file, reported with the file's name
    (mmengine parses it under the name ``<unknown>`` first)."""
    import ast
    with open(path, 'rb') as f:
        source = f.read()
    try:
        ast.parse(source, filename=path)
    except SyntaxError as err:
        raise SyntaxError(f'{err.msg} (in the config file {path}, line '
                          f'{err.lineno})',
                          (path, err.lineno, err.offset, err.text)) from None


def check_config(cfg) -> None:
    """Raise ``ConfigError`` listing every problem found in ``cfg``."""
    errors = []
    for key in ('model', 'optim_wrapper', 'param_scheduler',
                'default_hooks', 'custom_hooks', 'train_cfg'):
        node = cfg.get(key)
        if key == 'param_scheduler':
            # 'warmup'/'max' lengths are checked as the numbers they name
            node, problem = _resolved_schedulers(cfg)
            if problem:
                errors.append(problem)
        if node is not None:
            _walk(node, key, _REGISTRY_BY_KEY[key], errors)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader)
        if isinstance(loader_cfg, dict):
            _check_dataloader(loader_cfg, loader, errors)
            for key in ('dataset', 'sampler'):
                if key in loader_cfg:
                    _walk(loader_cfg[key], f'{loader}.{key}',
                          _REGISTRY_BY_KEY[key], errors)
    errors += compile_problems(cfg.get('compile'))
    errors += top_level_problems(cfg)
    errors += length_and_lr_problems(cfg)
    errors += num_classes_problems(cfg)
    if not errors and isinstance(cfg.get('model'), dict):
        problem = _build_model_problem(cfg.model)
        if problem:
            errors.append(f'model: {problem}')
    if errors:
        raise ConfigError('invalid config ({} problem{}):\n  '.format(
            len(errors), 's' if len(errors) > 1 else '') +
            '\n  '.join(errors))


def check_config_in_scope(cfg) -> None:
    """``check_config`` with the config's default scope active, as the
    runner will build it."""
    scope = cfg.get('default_scope', 'easymae')
    with DefaultScope.overwrite_default_scope(scope):
        share_num_classes(cfg)
        check_config(cfg)


# ------------------------------------------------------------ schedules --
# A scheduler's ``begin`` or ``end`` may name a length instead of a number:
# 'warmup' is the config's top-level ``warmup_epochs`` (``warmup_iters`` for
# a scheduler with ``by_epoch=False``), 'max' is ``train_cfg.max_epochs``
# (``train_cfg.max_iters``). A base schedule written this way is set by
# those two keys alone, from a leaf config or the command line
# (``--cfg-options train_cfg.max_epochs=10 warmup_epochs=1``). The runner
# resolves the names when it builds the schedulers; the check below
# resolves them the same way. Numbers are left as they are.
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


def _resolved_schedulers(cfg):
    """(param_scheduler with its named lengths resolved, problem or None)."""
    try:
        return resolve_param_scheduler(cfg.get('param_scheduler'), cfg), None
    except ConfigError as err:
        return None, str(err)


def schedule_warnings(cfg) -> list:
    """Learning-rate schedules the training loop will not play out.

    A scheduler whose ``begin``/``end`` is ``'warmup'`` or ``'max'``
    follows ``warmup_epochs`` and ``train_cfg.max_epochs`` (see
    the section above); one given in numbers does not, so
    shortening a run with ``--cfg-options train_cfg.max_epochs=N`` cuts its
    cosine off part-way (or, for a short run of a long recipe, training
    never leaves the warm-up). A warm-up as long as the run does the same.
    That can be wanted, so it is a warning, not an error; it names the
    scheduler and the key to change.
    """
    loop = cfg.get('train_cfg') or {}
    raw = cfg.get('param_scheduler') or []
    resolved, problem = _resolved_schedulers(cfg)
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
