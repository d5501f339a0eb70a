"""Load a pretrained encoder into a ViT backbone, strictly.

The fb/mae pattern, made general: load tolerantly, then compare with an
*expected* set. A backbone may legitimately miss ``fc_norm`` (created fresh
for global-pool finetuning) and may drop ``norm`` (global pool has none),
``fc_norm`` (cls-token pool has none), a classifier ``head`` and the
pretraining-only keys (decoder, mask token). Any other missing or unexpected
key, or a shape that differs, is an error that lists the keys and names the
checkpoint -- never a warning that leaves a randomly initialised backbone.
Position tables are resized (bicubic) when the patch grid differs.

``Pretrained`` is the weight initializer configs name:
``init_cfg=dict(type='Pretrained', checkpoint=PATH|URL|ZOO_NAME)``.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from easymae.models.utils.pos_embed import resize_pos_embed
from easymae.registry import WEIGHT_INITIALIZERS
from .convert import Conversion, _summarise, to_timm
from .resolve import resolve_checkpoint
from easymae.fileio.safe_load import load_file

# Present in a backbone's state dict but absent from a pretrain checkpoint:
# created fresh, as fb/mae's finetune does.
MAY_BE_MISSING = ('fc_norm.',)
# In a checkpoint but not wanted by the backbone: dropped with a log line.
MAY_BE_DROPPED = ('head.', 'norm.', 'fc_norm.')


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the backbone (keys or shapes)."""


def _adapt_pos_embed(state: Dict[str, torch.Tensor], module: nn.Module,
                     notes: List[str]) -> None:
    ours = module.state_dict().get('pos_embed')
    theirs = state.get('pos_embed')
    if ours is None or theirs is None or theirs.shape == ours.shape:
        return
    if theirs.dim() != 3 or theirs.shape[-1] != ours.shape[-1]:
        return  # a width mismatch: reported with the other shape errors
    extra = getattr(module, 'num_extra_tokens', 1)
    new_grid = int(round((ours.shape[1] - extra) ** 0.5))
    state['pos_embed'] = resize_pos_embed(theirs, new_grid, extra)
    notes.append(f'pos_embed resized from {tuple(theirs.shape)} to '
                 f'{tuple(ours.shape)} (bicubic, cls token kept)')


def load_pretrained_backbone(module: nn.Module, checkpoint: str,
                             prefix: Optional[str] = None,
                             layout: str = 'auto', map_location='cpu',
                             logger='current') -> Conversion:
    """Convert ``checkpoint`` (path, URL or zoo name) and load it into the
    ViT ``module`` strictly against the expected set. Returns the
    conversion (its ``report()`` is also logged)."""
    path = resolve_checkpoint(checkpoint)
    conv = to_timm(load_file(path, map_location), layout=layout,
                   prefix=prefix, source=path)
    state = dict(conv.state_dict)
    expected = module.state_dict()
    notes: List[str] = []
    _adapt_pos_embed(state, module, notes)

    dropped = [k for k in state if k not in expected
               and k.startswith(MAY_BE_DROPPED)]
    for key in dropped:
        conv.dropped[key] = 'not part of this backbone'
        del state[key]
    missing = [k for k in expected if k not in state]
    fresh = [k for k in missing if k.startswith(MAY_BE_MISSING)]
    missing = [k for k in missing if k not in fresh]
    unexpected = [k for k in state if k not in expected]
    shapes = [f'{k}: checkpoint {tuple(v.shape)} vs model '
              f'{tuple(expected[k].shape)}' for k, v in state.items()
              if k in expected and v.shape != expected[k].shape]
    if missing or unexpected or shapes:
        problems = []
        depth = [len({k.split('.')[1] for k in keys if k.startswith(
            'blocks.')}) for keys in (state, expected)]
        if 'cls_token' in state and 'cls_token' in expected and \
                state['cls_token'].shape[-1] != expected['cls_token'].shape[-1]:
            problems.append(f"embedding width: checkpoint "
                            f"{state['cls_token'].shape[-1]}, model "
                            f"{expected['cls_token'].shape[-1]}")
        if depth[0] != depth[1]:
            problems.append(f'depth: checkpoint has {depth[0]} blocks, '
                            f'model has {depth[1]}')
        if shapes:
            problems.append('shape mismatch: ' + '; '.join(shapes[:10]) +
                            (f' ... (+{len(shapes) - 10} more)'
                             if len(shapes) > 10 else ''))
        if missing:
            problems.append(f'missing keys: {_summarise(missing, 12)}')
        if unexpected:
            problems.append(f'unexpected keys: {_summarise(unexpected, 12)}')
        raise CheckpointMismatchError(
            f'checkpoint {path} (layout {conv.layout}) does not fit '
            f'{type(module).__name__}: ' + ' | '.join(problems))
    result = module.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == sorted(fresh), result
    assert not result.unexpected_keys, result
    report = conv.report()
    for note in notes:
        report += f'\n  {note}'
    if fresh:
        report += f'\n  initialised fresh (not in the checkpoint): ' \
                  f'{_summarise(fresh)}'
    print_log(f'loaded pretrained weights into {type(module).__name__}: '
              f'{report}', logger=logger)
    return conv


@WEIGHT_INITIALIZERS.register_module(name='Pretrained', force=True)
class PretrainedInit:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None,
    layout='auto')``: easymae's converter and strict loader in place of
    mmengine's tolerant one.

    The module initialised is the ViT backbone itself, or a model whose
    ``backbone`` attribute is one (e.g. a classifier).
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 layout: str = 'auto', map_location: str = 'cpu'):
        if not checkpoint:
            raise ValueError("Pretrained init: 'checkpoint' is empty")
        self.checkpoint, self.prefix = checkpoint, prefix
        self.layout, self.map_location = layout, map_location

    def __call__(self, module: nn.Module) -> None:
        target = module
        if 'patch_embed.proj.weight' not in module.state_dict() and \
                isinstance(getattr(module, 'backbone', None), nn.Module):
            target = module.backbone
        load_pretrained_backbone(target, self.checkpoint, self.prefix,
                                 self.layout, self.map_location)

    def __repr__(self):
        return f'Pretrained(checkpoint={self.checkpoint!r})'
