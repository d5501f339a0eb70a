"""Every ``type=`` dict of a config checked against the ``__init__``
signature of the class it names: unknown keys (with the closest valid
name) and values of a type the annotation excludes."""
import difflib
import inspect
import typing
from typing import Any, Optional

import torch

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

# Which registry a ``type=`` dict found under a key belongs to; nested
# dicts of an unlisted key use their parent's registry.
REGISTRY_BY_KEY = {
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
    return REGISTRY_BY_KEY.get(key, parent)


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


def walk_components(node, path: str, registry, errors: list) -> None:
    """Check every ``type=`` dict under ``node``, appending to ``errors``."""
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
            walk_components(value, f'{path}.{key}', child, errors)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            walk_components(value, f'{path}[{i}]', registry, errors)


def check_dataloader(cfg: dict, path: str, errors: list) -> None:
    """A data loader's own keys, against ``torch.utils.data.DataLoader``."""
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
