"""The one strict way to put a checkpoint's tensors into a module.

Every entry point (``load_from``, ``--resume``, ``Pretrained``, the test,
zero-shot, analysis and publishing tools, ``get_model``) ends here: the
file is read by :func:`load_file` (never running code), and its tensors
are compared with the module's state dict under one rule. Keys under the
caller's ``may_be_missing`` prefixes may be absent (created fresh), keys
under ``may_be_dropped`` may be left over (ignored); anything else missing,
unexpected or of another shape is one :class:`CheckpointMismatchError`
that names the file, lists the keys and says what the checkpoint looks
like. A successful load logs how many tensors were loaded.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .safe_load import CheckpointFormatError, load_file


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the model (keys or shapes)."""


class CheckpointKindError(ValueError):
    """The checkpoint is not the kind this entry point needs (e.g. a plain
    state dict given to ``--resume``)."""


def summarise(keys, limit: int = 6) -> str:
    keys = sorted(str(k) for k in keys)
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def _tensors(obj) -> Dict[str, torch.Tensor]:
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)} \
        if isinstance(obj, dict) else {}


def state_dict_of(checkpoint: Any, source: str = 'checkpoint'
                  ) -> Tuple[Dict[str, torch.Tensor], Optional[str]]:
    """The tensors of a checkpoint and the top-level key holding them
    ('state_dict', 'model', 'module' or None for a flat state dict); a
    DataParallel/DDP ``module.`` prefix is removed."""
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(
            f'{source}: expected a dict of tensors, got '
            f'{type(checkpoint).__name__}')
    container = None
    for name in ('state_dict', 'model', 'module'):
        if _tensors(checkpoint.get(name)):
            checkpoint, container = checkpoint[name], name
            break
    tensors = _tensors(checkpoint)
    if not tensors:
        raise CheckpointFormatError(
            f'{source}: no tensors found (top-level keys: '
            f'{summarise(checkpoint)})')
    if all(k.startswith('module.') for k in tensors):
        tensors = {k[len('module.'):]: v for k, v in tensors.items()}
    return tensors, container


def _prefixes(keys) -> str:
    counts = Counter(k.split('.')[0] + ('.*' if '.' in k else '')
                     for k in keys)
    return ', '.join(f'{p} ({n})' for p, n in counts.most_common(6))


def is_training_checkpoint(checkpoint: Any) -> bool:
    """Written by a training run (weights + meta with epoch/iter +
    message hub), i.e. something ``--resume`` can continue."""
    return isinstance(checkpoint, dict) and \
        isinstance(checkpoint.get('meta'), dict) and \
        'epoch' in checkpoint['meta'] and 'iter' in checkpoint['meta'] and \
        'message_hub' in checkpoint and bool(
            _tensors(checkpoint.get('state_dict')))


def describe_checkpoint(checkpoint: Any, layout: Optional[str] = None
                        ) -> str:
    """What a loaded checkpoint looks like, in one phrase for errors."""
    if not isinstance(checkpoint, dict):
        return f'a {type(checkpoint).__name__}, not a dict of tensors'
    try:
        tensors, container = state_dict_of(checkpoint)
    except CheckpointFormatError:
        return f'a dict without tensors (keys: {summarise(checkpoint)})'
    holds = f'{len(tensors)} tensors: {_prefixes(tensors)}'
    if is_training_checkpoint(checkpoint):
        meta = checkpoint['meta']
        kind = (f"a training checkpoint (epoch {meta.get('epoch')}, iter "
                f"{meta.get('iter')}; {holds})")
    elif container == 'model':
        kind = f"a release checkpoint with only 'model' ({holds})"
    elif container:
        kind = f"a weights-only checkpoint ('{container}' with {holds})"
    else:
        kind = f'a plain state dict ({holds})'
    if layout:
        kind += f', layout {layout}'
    return kind


@dataclass
class LoadReport:
    source: str
    loaded: int
    # expected-missing keys left as initialised, and leftover keys ignored
    fresh: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)

    def __str__(self):
        text = f'{self.loaded} tensors loaded from {self.source}'
        if self.fresh:
            text += f'; initialised fresh: {summarise(self.fresh)}'
        if self.dropped:
            text += f'; ignored: {summarise(self.dropped)}'
        return text


def load_state_dict_strict(module: nn.Module, state: Dict[str, torch.Tensor],
                           source: str,
                           may_be_missing: Sequence[str] = (),
                           may_be_dropped: Sequence[str] = (),
                           kind: Optional[str] = None,
                           hints: Sequence[str] = (),
                           logger='current', log: bool = True) -> LoadReport:
    """Load ``state`` into ``module`` under the expected-missing rule.

    may_be_missing / may_be_dropped: key prefixes of the module allowed to
    be absent from ``state`` / of ``state`` allowed to have no place in the
    module. kind: what the checkpoint is (for the error); hints: extra
    diagnoses the caller made (depth, width, ...).
    """
    may_be_missing, may_be_dropped = tuple(may_be_missing), \
        tuple(may_be_dropped)
    expected = module.state_dict()
    dropped = [k for k in state if k not in expected
               and k.startswith(may_be_dropped)]
    state = {k: v for k, v in state.items() if k not in dropped}
    absent = [k for k in expected if k not in state]
    fresh = [k for k in absent if k.startswith(may_be_missing)]
    missing = [k for k in absent if not k.startswith(may_be_missing)]
    unexpected = [k for k in state if k not in expected]
    shapes = [f'{k}: checkpoint {tuple(v.shape)} vs model '
              f'{tuple(expected[k].shape)}' for k, v in state.items()
              if k in expected and v.shape != expected[k].shape]
    name = type(module).__name__
    if missing or unexpected or shapes:
        problems = list(hints)
        if shapes:
            problems.append('shape mismatch: ' + '; '.join(shapes[:10]) +
                            (f' ... (+{len(shapes) - 10} more)'
                             if len(shapes) > 10 else ''))
        if missing:
            problems.append(f'missing keys: {summarise(missing, 12)}')
        if unexpected:
            problems.append(f'unexpected keys: '
                            f'{summarise(unexpected, 12)}')
        kind = kind or describe_checkpoint(state)
        raise CheckpointMismatchError(
            f'checkpoint {source} does not fit {name}: '
            + ' | '.join(problems) + f'. The file is {kind}.')
    result = module.load_state_dict(state, strict=False)
    if sorted(result.missing_keys) != sorted(fresh) or \
            result.unexpected_keys:
        raise CheckpointMismatchError(
            f'checkpoint {source} did not load into {name} as checked '
            f'({result})')
    report = LoadReport(source, len(state), fresh, dropped)
    if log:
        print_log(f'{name}: {report}', logger=logger)
    return report


def load_checkpoint_into(module: nn.Module, path: str,
                         may_be_missing: Sequence[str] = (),
                         may_be_dropped: Sequence[str] = (),
                         map_location='cpu', logger='current'
                         ) -> Tuple[Any, LoadReport]:
    """Read ``path`` safely and load its tensors into ``module`` (the
    whole model, same key names) under the expected-missing rule. Returns
    the loaded checkpoint object and the report."""
    checkpoint = load_file(path, map_location=map_location)
    state, _ = state_dict_of(checkpoint, path)
    report = load_state_dict_strict(
        module, state, path, may_be_missing, may_be_dropped,
        kind=describe_checkpoint(checkpoint), logger=logger)
    return checkpoint, report
