"""One converter for every layout: checkpoint -> encoder state dict in timm
names (= easymae's backbone names), and back to easymae's layout.

The result is a :class:`Conversion`: the tensors under their timm names,
the keys that were dropped (decoder, mask token, ...) with the reason, and
the detected layout, so callers can log a report and check it strictly.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

from easymae.fileio.safe_load import CheckpointFormatError
from easymae.fileio.state_dict import (
    CheckpointMismatchError,
    state_dict_of,
    summarise,
)
from .layouts import (
    LAYOUTS,
    RENAMERS,
    SELFSUP_HEADS,
    TIMM_VIT_KEY,
    detect_layout,
)
from .vit_bert_convert import is_vit_bert, vit_bert_drop_reason


class ConversionError(CheckpointMismatchError):
    """The checkpoint cannot be turned into a ViT encoder state dict."""


@dataclass
class Conversion:
    state_dict: 'OrderedDict[str, torch.Tensor]'
    layout: str
    source: str = 'checkpoint'
    # original key -> why it was dropped
    dropped: Dict[str, str] = field(default_factory=dict)
    # original key -> new key, for the keys whose name changed
    renamed: Dict[str, str] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f'{self.source}: layout {self.layout}, '
                 f'{len(self.state_dict)} tensors kept, '
                 f'{len(self.renamed)} renamed, {len(self.dropped)} dropped']
        by_reason: Dict[str, List[str]] = {}
        for key, why in self.dropped.items():
            by_reason.setdefault(why, []).append(key)
        for why, keys in by_reason.items():
            lines.append(f'  dropped ({why}): {_summarise(keys)}')
        return '\n'.join(lines)


def _summarise(keys: List[str], limit: int = 6) -> str:
    return summarise(keys, limit)


def unwrap(checkpoint, source: str = 'checkpoint'
           ) -> Tuple[Dict[str, torch.Tensor], Optional[str]]:
    """The state dict inside a checkpoint object, and where it was found."""
    try:
        return state_dict_of(checkpoint, source)
    except CheckpointFormatError as e:
        raise ConversionError(str(e)) from None


def to_timm(checkpoint, layout: str = 'auto', prefix: Optional[str] = None,
            source: str = 'checkpoint') -> Conversion:
    """Convert a loaded checkpoint to a ViT encoder state dict (timm names).

    layout: one of ``LAYOUTS`` or 'auto' (detected from the keys).
    prefix: keep only keys under this prefix, stripped, and read the rest
        as timm names (mmengine's ``Pretrained(prefix=...)`` habit); the
        layout is then 'timm' unless given.
    """
    state, container = unwrap(checkpoint, source)
    dropped: Dict[str, str] = {}
    if prefix:
        inner = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
        if not inner:
            raise ConversionError(
                f'{source}: no key starts with prefix {prefix!r} (first '
                f'keys: {_summarise(list(state))})')
        dropped.update({k: f'outside prefix {prefix!r}' for k in state
                        if not k.startswith(prefix)})
        state = inner
        if layout == 'auto':
            layout = 'timm'
    if layout == 'auto':
        layout = detect_layout(state, container, source)
    if layout not in RENAMERS:
        raise ConversionError(f'{source}: unknown layout {layout!r}; choose '
                              f'one of auto, {", ".join(LAYOUTS)}')
    rename = RENAMERS[layout]
    if layout == 'easymae' and is_vit_bert(state):
        # a joint image + text student (ViTBERT): its ViT is backbone.*
        for key in list(state):
            why = vit_bert_drop_reason(key)
            if why is not None:
                dropped[key] = why
        state = {k: v for k, v in state.items() if k not in dropped}
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    origin: Dict[str, str] = {}
    renamed: Dict[str, str] = {}
    for key, value in state.items():
        new = rename(key)
        if new is None:
            dropped[key] = 'classifier head without a timm name' \
                if key.startswith('head.') else \
                'pretraining-only: projector / predictor / teacher' \
                if key.startswith(SELFSUP_HEADS) or key == 'center' else \
                'pretraining-only: decoder / mask token'
            continue
        if new in out:
            raise ConversionError(
                f'{source}: keys {origin[new]!r} and {key!r} both map to '
                f'{new!r} in layout {layout}')
        out[new], origin[new] = value, key
        if new != key:
            renamed[key] = new
    return Conversion(out, layout, source, dropped, renamed)


def check_complete(conv: Conversion) -> None:
    """Fail unless every key is a timm ViT key and the encoder is whole:
    patch embedding, cls token, position table and complete blocks."""
    keys = set(conv.state_dict)
    unexpected = sorted(k for k in keys if not TIMM_VIT_KEY.match(k))
    missing = [k for k in ('cls_token', 'pos_embed', 'patch_embed.proj.weight',
                           'patch_embed.proj.bias') if k not in keys]
    blocks = sorted({int(k.split('.')[1]) for k in keys
                     if k.startswith('blocks.')})
    parts = ('norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2')
    for i in range(max(blocks) + 1 if blocks else 0):
        missing += [f'blocks.{i}.{p}.{w}' for p in parts
                    for w in ('weight', 'bias')
                    if f'blocks.{i}.{p}.{w}' not in keys]
    if not blocks:
        missing.append('blocks.0.*')
    if unexpected or missing:
        raise ConversionError(
            f'{conv.source} (layout {conv.layout}) is not a complete ViT '
            f'encoder: unexpected keys [{_summarise(unexpected, 20)}]; '
            f'missing keys [{_summarise(missing, 20)}]')


def to_easymae(state_dict: Dict[str, torch.Tensor]) -> dict:
    """A timm-named encoder state dict as an easymae checkpoint: the
    backbone under ``backbone.`` and a classifier under ``head.``."""
    out = OrderedDict()
    for key, value in state_dict.items():
        out[key if key.startswith('head.') else 'backbone.' + key] = value
    return {'state_dict': out, 'meta': {'converted_by': 'easymae.hub'}}
