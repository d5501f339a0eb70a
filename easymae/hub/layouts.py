"""Checkpoint key layouts of ViT encoders and their names in timm's layout.

Every layout is mapped onto timm's / the official MAE release's names, which
are also easymae's backbone names (docs/model_zoo.md has the table):

==============  ==========================================================
layout          what it looks like
==============  ==========================================================
easymae         ``{'state_dict': {'backbone.*', 'neck.*', 'head.*'}}``
mae-official    ``{'model': {patch_embed.*, blocks.*, decoder_*,
                mask_token}}`` (decoder and mask token in pretrain files)
easycv          ``state_dict`` with ``encoder.``/``decoder.`` (pretrain) or
                ``backbone.model.`` (finetune) prefixes
mmpretrain      ``backbone.layers.N.ln1``, ``ffn.layers.0.0``, top-level
                ``backbone.ln1`` (final norm) / ``ln2`` (fc_norm), ``neck.*``
timm            plain ``patch_embed.proj.*``, ``blocks.N.*``, ``norm``...
==============  ==========================================================

``rename_<layout>(key)`` returns the timm name, or ``None`` when the key is a
known pretraining-only / foreign-head key that a backbone drops (the reason
is given by ``DROP_REASON``). Keys a layout does not know are returned
unchanged (after the prefix is removed) so the strict loader reports them.
"""
import re
from typing import Callable, Dict, Iterable, Optional

from easymae.fileio.state_dict import CheckpointMismatchError

LAYOUTS = ('easymae', 'mae-official', 'easycv', 'mmpretrain', 'timm')

# Official MAE decoder and its mask token: pretraining only.
_MAE_DECODER = re.compile(r'^(mask_token|decoder_\w+)(\.|$)')

# A complete timm ViT encoder key (the backbone plus an optional head).
TIMM_VIT_KEY = re.compile(
    r'^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias)'
    r'|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)'
    r'\.(weight|bias)|blocks\.\d+\.ls[12]\.gamma'
    r'|norm\.(weight|bias)|fc_norm\.(weight|bias)|head\.(weight|bias))$')


# Heads and EMA encoders of contrastive / self-distillation pretraining
# (MoCo v3: projector, predictor, momentum_encoder; DINO: dino_head, teacher
# and its `center` buffer): a backbone drops them. The momentum encoder or
# teacher is taken instead with prefix='momentum_encoder.backbone.' or
# prefix='teacher.backbone.'.
SELFSUP_HEADS = ('projector.', 'predictor.', 'momentum_encoder.',
                 'dino_head.', 'teacher.')


class UnknownLayoutError(CheckpointMismatchError):
    """The checkpoint's keys match none of the known layouts (a
    ``CheckpointMismatchError``, so callers catch one type)."""


def _strip(key: str, prefix: str) -> Optional[str]:
    return key[len(prefix):] if key.startswith(prefix) else None


def rename_timm(key: str) -> Optional[str]:
    if _MAE_DECODER.match(key):
        return None  # official full / visualize checkpoints hold the decoder
    return key


rename_mae_official = rename_timm


def rename_easymae(key: str) -> Optional[str]:
    inner = _strip(key, 'backbone.')
    if inner is not None:
        return inner
    if key.startswith(('neck.', 'data_preprocessor.')) or \
            key in ('encoder_mask_token', 'mask_token'):  # MAE / SimMIM
        return None
    if key.startswith(('teacher.', 'attn_adapter.')):  # MAE-Lite's distill
        return None
    if key.startswith(SELFSUP_HEADS) or key == 'center':  # MoCo v3, DINO
        return None
    head = _strip(key, 'head.')
    if head is not None:
        # a classifier head: its linear layer, whatever the attribute name
        m = re.match(r'^(?:\w+\.)?(weight|bias)$', head)
        return f'head.{m.group(1)}' if m else None
    return key


def rename_easycv(key: str) -> Optional[str]:
    for prefix in ('backbone.model.', 'encoder.'):
        inner = _strip(key, prefix)
        if inner is not None:
            return rename_timm(inner)
    if key.startswith(('decoder.', 'neck.', 'head.')):
        return None  # MAENeck (called `decoder`), parameter-free ClsHead
    return key


_MMPRETRAIN_BLOCK = {
    'ln1': 'norm1', 'ln2': 'norm2', 'attn.qkv': 'attn.qkv',
    'attn.proj': 'attn.proj', 'ffn.layers.0.0': 'mlp.fc1',
    'ffn.layers.1': 'mlp.fc2',
}


def rename_mmpretrain(key: str) -> Optional[str]:
    if key.startswith(('neck.', 'data_preprocessor.')):
        return None
    head = _strip(key, 'head.')
    if head is not None:
        # `head.fc.*` (ClsHead) or `head.layers.head.*` (VisionTransformer
        # ClsHead); other head parameters (pre-logits) have no timm name.
        m = re.match(r'^(?:fc|layers\.head)\.(weight|bias)$', head)
        return f'head.{m.group(1)}' if m else None
    inner = _strip(key, 'backbone.')
    if inner is None:
        return key
    m = re.match(r'^layers\.(\d+)\.(.+)\.(weight|bias)$', inner)
    if m and m.group(2) in _MMPRETRAIN_BLOCK:
        return f'blocks.{m.group(1)}.{_MMPRETRAIN_BLOCK[m.group(2)]}.' \
               f'{m.group(3)}'
    # Top level: ln1 is the *final* norm, ln2 the global-pool fc_norm (a
    # blanket ln->norm replace would turn ln2 into `norm2`, a known bug).
    top = {'ln1': 'norm', 'ln2': 'fc_norm',
           'patch_embed.projection': 'patch_embed.proj'}
    m = re.match(r'^(.+)\.(weight|bias)$', inner)
    if m and m.group(1) in top:
        return f'{top[m.group(1)]}.{m.group(2)}'
    return inner


RENAMERS: Dict[str, Callable[[str], Optional[str]]] = {
    'easymae': rename_easymae,
    'mae-official': rename_mae_official,
    'easycv': rename_easycv,
    'mmpretrain': rename_mmpretrain,
    'timm': rename_timm,
}


def detect_layout(keys: Iterable[str], container: Optional[str] = None,
                  source: str = 'checkpoint') -> str:
    """Name the layout of a state dict from its keys.

    container: the top-level key the state dict came from ('model' for the
    official MAE release, 'state_dict' for mmengine/mmcv checkpoints).
    """
    keys = list(keys)

    def has(pattern):
        return any(re.match(pattern, k) for k in keys)

    if has(r'^backbone\.layers\.\d+\.') or \
            has(r'^backbone\.patch_embed\.projection\.'):
        return 'mmpretrain'
    if has(r'^backbone\.model\.(patch_embed|blocks)\.') or \
            has(r'^encoder\.(patch_embed|blocks)\.'):
        return 'easycv'
    if has(r'^backbone\.(patch_embed\.proj|blocks\.\d+)\.'):
        return 'easymae'
    if has(r'^(patch_embed\.proj|blocks\.\d+)\.'):
        return 'mae-official' if container == 'model' or \
            has(_MAE_DECODER.pattern) else 'timm'
    sample = ', '.join(sorted(keys)[:8]) or '(no keys)'
    raise UnknownLayoutError(
        f'{source}: unrecognised checkpoint layout; none of '
        f'{", ".join(LAYOUTS)} matches its keys (first keys: {sample}). '
        'Pass layout=... / --from explicitly, or prefix=... to pick the '
        'encoder sub-tree.')
