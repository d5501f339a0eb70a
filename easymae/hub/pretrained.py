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
``init_cfg=dict(type='Pretrained', checkpoint=PATH|URL|ZOO_NAME)``. The
runner's ``load_from`` goes through ``load_model_checkpoint``, registered in
``CHECKPOINT_LOADERS`` (the engine finds it there without importing hub).
Both use the one strict loader of ``easymae.fileio.state_dict``.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (  # noqa: F401
    CheckpointMismatchError,
    describe_checkpoint,
    load_state_dict_strict,
    state_dict_of,
)
from easymae.models.utils.pos_embed import resize_pos_embed
from easymae.registry import CHECKPOINT_LOADERS, WEIGHT_INITIALIZERS
from .bert_convert import (
    hf_bert_to_easymae,
    is_hf_bert,
    load_pretrained_text_encoder,
)
from .convert import Conversion, _summarise, to_timm
from .layouts import UnknownLayoutError, detect_layout
from .resolve import resolve_checkpoint

# Present in a backbone's state dict but absent from a pretrain checkpoint:
# created fresh, as fb/mae's finetune does.
MAY_BE_MISSING = ('fc_norm.',)
# In a checkpoint but not wanted by the backbone: dropped with a log line.
MAY_BE_DROPPED = ('head.', 'norm.', 'fc_norm.')


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
                             logger='current',
                             keep_first_blocks: bool = False) -> Conversion:
    """Convert ``checkpoint`` (path, URL or zoo name) and load it into the
    ViT ``module`` strictly against the expected set. Returns the
    conversion (its ``report()`` is also logged)."""
    path = resolve_checkpoint(checkpoint)
    return load_backbone_state(module, load_file(path, map_location), path,
                               prefix, layout, logger, keep_first_blocks)


def _block_index(key: str) -> Optional[int]:
    parts = key.split('.')
    if parts[0] == 'blocks' and len(parts) > 1 and parts[1].isdigit():
        return int(parts[1])
    return None


def _drop_deeper_blocks(state: Dict[str, torch.Tensor], module: nn.Module,
                        conv: Conversion) -> None:
    """A shallower model keeps the checkpoint's first blocks (MAE-Lite's
    "keep the first k layers"); the deeper ones are dropped, by name."""
    ours = [_block_index(k) for k in module.state_dict()]
    depth = 1 + max((i for i in ours if i is not None), default=-1)
    for key in list(state):
        index = _block_index(key)
        if index is not None and index >= depth:
            del state[key]
            conv.dropped[key] = (f"beyond the model's {depth} blocks "
                                 '(keep_first_blocks)')


def _diagnose(state, expected) -> List[str]:
    """Width and depth differences, said before the key lists."""
    problems = []
    depth = [len({k.split('.')[1] for k in keys if k.startswith('blocks.')})
             for keys in (state, expected)]
    if 'cls_token' in state and 'cls_token' in expected and \
            state['cls_token'].shape[-1] != expected['cls_token'].shape[-1]:
        problems.append(f"embedding width: checkpoint "
                        f"{state['cls_token'].shape[-1]}, model "
                        f"{expected['cls_token'].shape[-1]}")
    if depth[0] != depth[1]:
        problems.append(f'depth: checkpoint has {depth[0]} blocks, '
                        f'model has {depth[1]}')
    return problems


def load_backbone_state(module: nn.Module, checkpoint, source: str,
                        prefix: Optional[str] = None, layout: str = 'auto',
                        logger='current',
                        keep_first_blocks: bool = False) -> Conversion:
    """The loaded ``checkpoint`` object converted to timm names and loaded
    into the ViT ``module`` by the fileio strict loader, with the encoder's
    expected-missing rule (``MAY_BE_MISSING`` / ``MAY_BE_DROPPED``).
    keep_first_blocks: a checkpoint deeper than the model gives its first
    blocks (a shallower one is still an error)."""
    conv = to_timm(checkpoint, layout=layout, prefix=prefix, source=source)
    state = dict(conv.state_dict)
    if keep_first_blocks:
        _drop_deeper_blocks(state, module, conv)
    notes: List[str] = []
    _adapt_pos_embed(state, module, notes)
    report = load_state_dict_strict(
        module, state, source, MAY_BE_MISSING, MAY_BE_DROPPED,
        kind=describe_checkpoint(checkpoint, conv.layout),
        hints=_diagnose(state, module.state_dict()), log=False)
    for key in report.dropped:
        conv.dropped[key] = 'not part of this backbone'
    text = conv.report()
    for note in notes:
        text += f'\n  {note}'
    if report.fresh:
        text += f'\n  initialised fresh (not in the checkpoint): ' \
                f'{_summarise(report.fresh)}'
    print_log(f'loaded pretrained weights into {type(module).__name__}: '
              f'{report.loaded} tensors; {text}', logger=logger)
    return conv


def _vit_of(model: nn.Module) -> Optional[nn.Module]:
    """The ViT encoder a foreign-layout file can fill: the model itself or
    its ``backbone``."""
    for candidate in (model, getattr(model, 'backbone', None)):
        if isinstance(candidate, nn.Module) and \
                'patch_embed.proj.weight' in candidate.state_dict():
            return candidate
    return None


@CHECKPOINT_LOADERS.register_module(name='load_from')
def load_model_checkpoint(model: nn.Module, checkpoint, source: str,
                          logger='current') -> None:
    """``load_from``: never a silent start from random weights.

    A checkpoint in easymae's layout (a whole model of ours) loads strictly
    into the whole model. An encoder in another layout (official MAE, timm,
    EasyCV, mmpretrain) is converted into the model's ViT backbone under the
    encoder's expected-missing rule; the rest of the model keeps its
    initialisation, which the log says. Anything else is refused.
    """
    state, container = state_dict_of(checkpoint, source)
    if is_hf_bert(state):  # a transformers BERT: our names, then strict
        state, _ = hf_bert_to_easymae(state, source)
    try:
        layout = detect_layout(state, container, source)
    except UnknownLayoutError:
        layout = None
    vit = _vit_of(model)
    if layout not in (None, 'easymae') and vit is not None:
        load_backbone_state(vit, checkpoint, source, layout=layout,
                            logger=logger)
        if vit is not model:
            rest = sorted({k.split('.')[0] + '.*' for k in model.state_dict()
                           if not k.startswith('backbone.')})
            print_log(f'load_from {source}: a {layout} encoder, loaded into '
                      f'{type(model).__name__}.backbone; '
                      f'{", ".join(rest) or "nothing else"} keep their '
                      'initialisation', logger=logger)
        return
    hint = ()
    if layout == 'easymae' and vit is not None and vit is not model:
        hint = ("to take only its encoder, set model.backbone.init_cfg="
                f"dict(type='Pretrained', checkpoint={source!r}) instead of "
                'load_from',)
    kind = describe_checkpoint(checkpoint, layout)
    try:
        load_state_dict_strict(model, state, source, kind=kind,
                               logger=logger)
    except CheckpointMismatchError as e:
        if not hint:
            raise
        raise CheckpointMismatchError(f'{e} Hint: {hint[0]}.') from None


@CHECKPOINT_LOADERS.register_module(name='resolve')
def resolve_for_runner(name: str) -> str:
    """A zoo name or URL given to the runner as ``load_from`` / resume."""
    return resolve_checkpoint(name)


@WEIGHT_INITIALIZERS.register_module(name='Pretrained', force=True)
class PretrainedInit:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None,
    layout='auto', keep_first_blocks=False)``: easymae's converter and
    strict loader in place of mmengine's tolerant one.

    The module initialised is the ViT backbone itself, or a model whose
    ``backbone`` attribute is one (e.g. a classifier).
    keep_first_blocks: a backbone of depth k takes the first k blocks of a
    deeper checkpoint (the rest dropped and named in the log) instead of
    refusing it.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 layout: str = 'auto', map_location: str = 'cpu',
                 keep_first_blocks: bool = False):
        if not checkpoint:
            raise ValueError("Pretrained init: 'checkpoint' is empty")
        self.checkpoint, self.prefix = checkpoint, prefix
        self.layout, self.map_location = layout, map_location
        self.keep_first_blocks = bool(keep_first_blocks)

    def __call__(self, module: nn.Module) -> None:
        for text in (module, getattr(module, 'backbone', None)):
            # a BERT encoder: its own converter (ours or HF layout)
            if isinstance(text, nn.Module) and \
                    'word_embed.weight' in text.state_dict():
                load_pretrained_text_encoder(text, self.checkpoint,
                                             self.map_location)
                return
        target = module
        if 'patch_embed.proj.weight' not in module.state_dict() and \
                isinstance(getattr(module, 'backbone', None), nn.Module):
            target = module.backbone
        load_pretrained_backbone(target, self.checkpoint, self.prefix,
                                 self.layout, self.map_location,
                                 keep_first_blocks=self.keep_first_blocks)

    def __repr__(self):
        return f'Pretrained(checkpoint={self.checkpoint!r})'
