"""Knowledge distillation on logits (Hinton et al., 2015), and teachers.

    loss = alpha * CE(student, labels)
         + (1 - alpha) * tau^2 * KL(p_teacher || p_student)
    p = softmax(logits / tau)

tau^2 keeps the soft term's gradient on the scale of the hard one's as
the temperature grows. A teacher is a whole trained model of ours, read
from its checkpoint by the strict loader, frozen and kept in eval mode.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import (
    describe_checkpoint,
    load_state_dict_strict,
    state_dict_of,
)
from easymae.registry import MODELS

# a key only a model of that modality has
MODALITY_KEYS = {'image': 'backbone.patch_embed.proj.weight',
                 'text': 'backbone.word_embed.weight'}


def distill_loss(student: torch.Tensor, labels: torch.Tensor,
                 teacher: torch.Tensor, alpha: float, tau: float
                 ) -> torch.Tensor:
    """(N, C) student and teacher logits, (N,) labels."""
    student = student.float()
    ce = F.cross_entropy(student, labels)
    if alpha == 1.0:
        return ce
    kl = F.kl_div(F.log_softmax(student / tau, dim=-1),
                  F.log_softmax(teacher.float() / tau, dim=-1),
                  reduction='batchmean', log_target=True)
    return alpha * ce + (1.0 - alpha) * tau ** 2 * kl


def build_teacher(cfg: dict, key: str) -> nn.Module:
    """``cfg = dict(model=<model config>, checkpoint=PATH)``: the model,
    frozen, in eval mode; its weights come from :func:`load_teacher`
    (at ``init_weights``, as a ``Pretrained`` init_cfg would)."""
    if not isinstance(cfg, dict) or 'model' not in cfg or \
            'checkpoint' not in cfg:
        raise ValueError(f'{key} must be dict(model=..., checkpoint=...), '
                         f'got {cfg!r}')
    teacher = MODELS.build(cfg['model'])
    teacher.requires_grad_(False)
    return teacher.eval()


def load_teacher(teacher: nn.Module, path: str, key: str,
                 modality: str) -> None:
    """The checkpoint at ``path`` into ``teacher``, strictly, after
    checking that it is a model of ``modality``."""
    checkpoint = load_file(path)
    state, _ = state_dict_of(checkpoint, path)
    if MODALITY_KEYS[modality] not in state:
        other = [m for m, k in MODALITY_KEYS.items() if k in state]
        found = f'a model of {other[0]}' if other else 'no model we know'
        raise ValueError(
            f'{key}.checkpoint {path} holds {found} (no '
            f'{MODALITY_KEYS[modality]}); the {modality} teacher needs a '
            f'checkpoint of a model of {modality}')
    ours = teacher.state_dict()
    hints = [f'{key}.model does not match the checkpoint: {k} is '
             f'{tuple(v.shape)} there, {tuple(ours[k].shape)} in the model '
             '(width or vocabulary differ)'
             for k, v in state.items() if k in ours
             and k.endswith(('patch_embed.proj.weight', 'word_embed.weight'))
             and v.shape != ours[k].shape]
    load_state_dict_strict(teacher, state, path,
                           may_be_dropped=('data_preprocessor.',),
                           kind=describe_checkpoint(checkpoint), hints=hints)
