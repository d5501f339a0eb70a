"""A joint image + text student (``ViTBERT``) split into single-modality
encoders.

The student's state dict holds the ViT (image tokenizer + shared blocks +
final norm) under ``backbone.``, the text tokenizer under ``text_embed.``
and the task heads (``image_head.``, ``text_head.``; ``neck.``/``head.``
for the label-free variant's MAE decoder). By prefix:

* vision-only: ``backbone.*`` -> a ``VisionTransformer``: ``to_timm``
  (so ``Pretrained`` and ``tools/convert_checkpoint.py``) recognises the
  joint layout and drops the rest (:func:`vit_bert_drop_reason`);
* text-only: ``text_embed.{word_embed,pos_embed,type_embed}`` +
  ``backbone.{blocks,norm}.*`` -> a pre-norm ``BertEncoder``
  (``post_norm=False``): ``Pretrained`` detects the layout.
"""
from collections import OrderedDict
from typing import Dict, Tuple

import torch

TEXT_EMBED = 'text_embed.'
SHARED = ('backbone.blocks.', 'backbone.norm.')
# the joint model's parts outside the ViT (the label-free variant's
# ``neck.``/``head.`` are MAE's, which the easymae layout already drops)
TASK_HEADS = ('image_head.', 'text_head.')


def is_vit_bert(keys) -> bool:
    keys = list(keys)
    return f'{TEXT_EMBED}word_embed.weight' in keys and \
        any(k.startswith('backbone.blocks.') for k in keys)


def vit_bert_text_state(state: Dict[str, torch.Tensor]
                        ) -> Tuple['OrderedDict[str, torch.Tensor]',
                                   Dict[str, str]]:
    """``BertEncoder`` names of the student's text path, and what was
    dropped (key -> why)."""
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    dropped: Dict[str, str] = {}
    for key, value in state.items():
        if key.startswith(TEXT_EMBED):
            out[key[len(TEXT_EMBED):]] = value
        elif key.startswith(SHARED):
            out[key[len('backbone.'):]] = value
        elif key.startswith('backbone.'):
            dropped[key] = 'the image tokenizer'
        else:
            dropped[key] = 'a task head of the joint model'
    return out, dropped


def vit_bert_drop_reason(key: str):
    """Why a vision-only encoder drops ``key`` of a joint student, or None
    when the key is not one of the joint model's text / task parts."""
    if key.startswith(TEXT_EMBED):
        return 'the joint model\'s text tokenizer'
    if key.startswith(TASK_HEADS):
        return 'a task head of the joint model'
    return None


def vit_bert_vision_state(state: Dict[str, torch.Tensor]
                          ) -> 'OrderedDict[str, torch.Tensor]':
    """``VisionTransformer`` names of the student's image path."""
    return OrderedDict((k[len('backbone.'):], v) for k, v in state.items()
                       if k.startswith('backbone.'))
