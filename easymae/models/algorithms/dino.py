"""Emerging Properties in Self-Supervised Vision Transformers (DINO; Caron
et al. 2021): self-distillation with no labels.

A student (ViT + DINO head) sees every crop of an image: 2 global crops and
N smaller local ones. A teacher, the EMA of the student (momentum 0.996 ->
1, cosine), sees only the global crops. The teacher's output is centred
(a running mean of its outputs, all-reduced over processes) and sharpened
(a low temperature, warmed up from 0.04 to 0.07); the student's softmax
(temperature 0.1) is trained to match it by cross-entropy over every
(teacher crop, other student crop) pair. Centring keeps one prototype from
dominating, sharpening keeps the output from going uniform: together they
avoid collapse without negatives or a predictor.
"""
import copy
from typing import List, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS
from ..utils.momentum import (
    check_momentum,
    cosine_momentum,
    ema_update_,
    training_progress,
)
from ..utils.multi_crop import encode_views, vit_forward_any_size
from .base import BaseAlgorithm, build_part


def teacher_temperature(epoch: int, warmup_temp: float, temp: float,
                        warmup_epochs: int) -> float:
    """Linear from ``warmup_temp`` at epoch 0 to ``temp`` at epoch
    ``warmup_epochs - 1`` (the release's ``np.linspace`` per epoch), then
    constant."""
    if epoch >= warmup_epochs:
        return temp
    if warmup_epochs == 1:
        return warmup_temp
    return warmup_temp + (temp - warmup_temp) * epoch / (warmup_epochs - 1)


def dino_loss(student_out: torch.Tensor, teacher_probs: torch.Tensor,
              num_views: int, student_temp: float) -> torch.Tensor:
    """Mean over (teacher view t, student view s != t) of
    ``-sum(p_t * log_softmax(s / student_temp))``, batch-averaged.

    student_out: (V * N, K) logits, view after view; teacher_probs:
    (G * N, K) centred, sharpened teacher softmax of the G global views.
    """
    s_logp = F.log_softmax(student_out.float() / student_temp, dim=-1)
    s_views = s_logp.chunk(num_views)
    t_views = teacher_probs.chunk(len(teacher_probs) // len(s_views[0]))
    total, terms = 0.0, 0
    for t, p in enumerate(t_views):
        for s, logq in enumerate(s_views):
            if s == t:  # same crop: no loss
                continue
            total = total + (-p * logq).sum(dim=-1).mean()
            terms += 1
    return total / terms


@MODELS.register_module()
class DINO(BaseAlgorithm):
    """Args:
        backbone: the student ``VisionTransformer`` (cls-token output;
            learned positions, resized for local crops).
        head: a ``DINOHead`` config; ``in_channels`` defaults to the
            backbone's width.
        num_global_crops: the first views of a batch; the rest are local.
        base_momentum: teacher EMA at the start (0.996), cosine -> 1.
        student_temp: 0.1.
        teacher_temp, warmup_teacher_temp, warmup_teacher_temp_epochs:
            teacher temperature, linear from the warm-up value over the
            first epochs (0.04 -> 0.07 over 30).
        center_momentum: EMA of the centre (0.9).
        freeze_last_layer_epochs: the head's last layer gets a zero
            gradient during the first epochs (1).
    """

    def __init__(self, backbone: dict, head: dict, num_global_crops: int = 2,
                 base_momentum: float = 0.996, student_temp: float = 0.1,
                 teacher_temp: float = 0.07,
                 warmup_teacher_temp: float = 0.04,
                 warmup_teacher_temp_epochs: int = 30,
                 center_momentum: float = 0.9,
                 freeze_last_layer_epochs: int = 1,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        self.base_momentum = check_momentum('DINO', 'base_momentum',
                                            base_momentum)
        self.center_momentum = check_momentum('DINO', 'center_momentum',
                                              center_momentum)
        for name, t in (('student_temp', student_temp),
                        ('teacher_temp', teacher_temp),
                        ('warmup_teacher_temp', warmup_teacher_temp)):
            if not t > 0:
                raise ValueError(f'DINO: {name} must be > 0, got {t}')
        if num_global_crops < 1:
            raise ValueError(f'DINO: num_global_crops must be >= 1, got '
                             f'{num_global_crops}')
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultiViewDataPreprocessor')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        if isinstance(head, dict):
            head = dict(head)
            head.setdefault('in_channels', self.backbone.embed_dim)
        self.dino_head = build_part(head)
        self.num_global_crops = num_global_crops
        self.student_temp = student_temp
        self.teacher_temps = (warmup_teacher_temp, teacher_temp,
                              warmup_teacher_temp_epochs)
        self.freeze_last_layer_epochs = freeze_last_layer_epochs
        self.teacher = nn.ModuleDict(dict(
            backbone=copy.deepcopy(self.backbone),
            dino_head=copy.deepcopy(self.dino_head)))
        self.teacher.requires_grad_(False)
        out_dim = self.dino_head.last_layer.weight.shape[0]
        self.register_buffer('center', torch.zeros(1, out_dim))

    def init_weights(self):
        super().init_weights()
        self.teacher.load_state_dict(dict(
            **{f'backbone.{k}': v for k, v in
               self.backbone.state_dict().items()},
            **{f'dino_head.{k}': v for k, v in
               self.dino_head.state_dict().items()}))

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # no drop path in the teacher
        return self

    # ----------------------------------------------------------- parts
    def student(self, views: List[torch.Tensor]) -> torch.Tensor:
        feats = encode_views(
            lambda x: vit_forward_any_size(self.backbone, x), views)
        return self.dino_head(feats)

    @torch.no_grad()
    def teacher_forward(self, views: List[torch.Tensor]) -> torch.Tensor:
        vit = self.teacher['backbone']
        feats = encode_views(lambda x: vit_forward_any_size(vit, x), views)
        return self.teacher['dino_head'](feats)

    def teacher_temp(self, epoch: int) -> float:
        return teacher_temperature(epoch, *self.teacher_temps)

    @torch.no_grad()
    def update_center(self, teacher_out: torch.Tensor) -> None:
        """centre <- m * centre + (1 - m) * mean of every rank's teacher
        outputs of this step."""
        batch_center = teacher_out.float().sum(dim=0, keepdim=True)
        count = torch.tensor(float(len(teacher_out)),
                             device=batch_center.device)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(batch_center)
            dist.all_reduce(count)
        m = self.center_momentum
        self.center.mul_(m).add_(batch_center / count, alpha=1 - m)

    # ------------------------------------------------------------ loss
    def loss(self, inputs, data_samples=None) -> dict:
        views = self._check_views(inputs)
        it, max_iters, epoch = training_progress()
        if self.training:
            # the EMA step for the update made at iteration it - 1, with
            # that iteration's momentum (the release updates after the
            # optimizer step; the forward is the hook DDP keeps)
            if it > 0:
                m = cosine_momentum(self.base_momentum, it - 1, max_iters)
                ema_update_(self.teacher, nn.ModuleDict(dict(
                    backbone=self.backbone, dino_head=self.dino_head)), m)
            self.dino_head.last_layer.frozen = \
                epoch < self.freeze_last_layer_epochs
        g = self.num_global_crops
        teacher_out = self.teacher_forward(views[:g]).float()
        temp = self.teacher_temp(epoch)
        probs = F.softmax((teacher_out - self.center) / temp, dim=-1)
        student_out = self.student(views)
        loss = dino_loss(student_out, probs, len(views), self.student_temp)
        if self.training:
            self.update_center(teacher_out)
        # collapse monitors: uniform -> entropy log K, one prototype -> 0;
        # KL(teacher || student) goes to 0 in both
        entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
        return dict(loss=loss, teacher_entropy=entropy.detach(),
                    kl_div=(loss - entropy).detach(),
                    teacher_temp=torch.tensor(temp))

    def _check_views(self, inputs) -> List[torch.Tensor]:
        if isinstance(inputs, torch.Tensor):
            raise ValueError(
                'DINO needs several crops of each image, got a single batch '
                f'of shape {tuple(inputs.shape)}; put dict(type='
                "'MultiView', ...) before PackInputs in the pipeline")
        views, g = list(inputs), self.num_global_crops
        if len(views) < max(g, 2):
            raise ValueError(f'DINO needs at least {max(g, 2)} views '
                             f'({g} global first), got {len(views)}')
        size = views[0].shape[-2:]
        for i, v in enumerate(views):
            if i < g and v.shape[-2:] != size:
                raise ValueError(f'DINO: global crop {i} is '
                                 f'{tuple(v.shape[-2:])}, crop 0 is '
                                 f'{tuple(size)}; global crops share a size')
            if i >= g and (v.shape[-2] > size[0] or v.shape[-1] > size[1]):
                raise ValueError(f'DINO: local crop {i} is '
                                 f'{tuple(v.shape[-2:])}, larger than the '
                                 f'global crops {tuple(size)}')
        return views
