"""The whole-config check: component arguments, data loaders, schedules,
top-level names, lengths, learning rate, class counts, and the model built
once so its own argument checks run before anything is written."""
import difflib
import inspect
from typing import Optional

import torch
from mmengine.registry import DefaultScope

from easymae.config_check.arguments import (
    REGISTRY_BY_KEY,
    accepted_arguments,
    check_dataloader,
    walk_components,
)
from easymae.config_check.errors import ConfigError
from easymae.config_check.schedules import (
    resolved_schedulers,
    schedulers_as_built,
)
from easymae.registry import DATA_SOURCES, MODELS


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


def loop_problems(cfg) -> list:
    """Validation and testing each need their loader, loop and evaluator
    together; mmengine refuses a partial set only when the runner is
    built, after the work dir exists."""
    problems = []
    for stage in ('val', 'test'):
        keys = [f'{stage}_dataloader', f'{stage}_cfg', f'{stage}_evaluator']
        given = [k for k in keys if cfg.get(k) is not None]
        if given and len(given) < len(keys):
            missing = [k for k in keys if k not in given]
            problems.append(
                f"{', '.join(missing)}: not set, while {', '.join(given)} "
                f'{"is" if len(given) == 1 else "are"}; {stage} needs all '
                f"three (e.g. {stage}_cfg=dict(type='"
                f"{stage.capitalize()}Loop')) or none")
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
            node, problem = resolved_schedulers(cfg)
            if problem:
                errors.append(problem)
            node = schedulers_as_built(node)
        if node is not None:
            walk_components(node, key, REGISTRY_BY_KEY[key], errors)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader)
        if isinstance(loader_cfg, dict):
            check_dataloader(loader_cfg, loader, errors)
            for key in ('dataset', 'sampler'):
                if key in loader_cfg:
                    walk_components(loader_cfg[key], f'{loader}.{key}',
                          REGISTRY_BY_KEY[key], errors)
    errors += compile_problems(cfg.get('compile'))
    errors += top_level_problems(cfg)
    errors += length_and_lr_problems(cfg)
    errors += loop_problems(cfg)
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
