"""An Empirical Study of Training Self-Supervised Vision Transformers
(MoCo v3; Chen, Xie, He 2021).

Two augmentations of each image go through a base encoder (ViT, then a
projection MLP, then a prediction MLP) and a momentum encoder (an EMA copy
of the ViT and projector). Each query is matched to the key of the *other*
view of its image among the keys of the whole global batch (InfoNCE,
temperature tau, scaled by 2 tau as in the paper's pseudocode). Keys are
gathered from every process without gradient, so more processes give more
negatives; each rank's labels point at its own slice of the gathered keys.
For stability the patch projection can stay at its random initialisation
(the paper's "random patch projection").
"""
import copy
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank

from easymae.registry import MODELS
from ..utils.gather import concat_all_gather
from ..utils.momentum import (
    check_momentum,
    cosine_momentum,
    ema_update_,
    training_progress,
)
from .base import BaseAlgorithm, build_part


def contrastive_loss(q: torch.Tensor, k: torch.Tensor, temperature: float,
                     rank: Optional[int] = None) -> torch.Tensor:
    """InfoNCE of this rank's queries (n, C) against every rank's keys.

    Row i's positive is global key ``rank * n + i``; the cross entropy is
    multiplied by ``2 * temperature`` (MoCo v3's ``ctr``).
    """
    q = F.normalize(q.float(), dim=1)
    k = F.normalize(k.float(), dim=1)
    k_all = concat_all_gather(k)  # no gradient into the keys
    logits = q @ k_all.t() / temperature
    rank = get_rank() if rank is None else rank
    labels = torch.arange(len(q), device=q.device) + rank * len(q)
    return F.cross_entropy(logits, labels) * (2 * temperature)


@MODELS.register_module()
class MoCoV3(BaseAlgorithm):
    """Args:
        backbone: a ``VisionTransformer`` config (cls-token output).
        projector: a ``ProjectionMLP`` config (3 layers, 4096 -> 256);
            ``in_channels`` defaults to the backbone's width.
        predictor: a ``ProjectionMLP`` config (2 layers, 4096 -> 256);
            ``in_channels`` defaults to the projector's output.
        temperature: tau of the InfoNCE (0.2 for ViTs).
        base_momentum: EMA coefficient m at the start (0.99); with
            ``momentum_cosine`` it rises to 1 by a half cosine over the run
            (read from the runner's iteration and max_iters).
        stop_grad_patch_proj: keep the patch projection frozen at its random
            (xavier-uniform) initialisation.
    """

    def __init__(self, backbone: dict, projector: dict, predictor: dict,
                 temperature: float = 0.2, base_momentum: float = 0.99,
                 momentum_cosine: bool = True,
                 stop_grad_patch_proj: bool = True,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        self.base_momentum = check_momentum('MoCoV3', 'base_momentum',
                                            base_momentum)
        if not temperature > 0:
            raise ValueError(f'MoCoV3: temperature must be > 0, got '
                             f'{temperature}')
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultiViewDataPreprocessor')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        if isinstance(projector, dict):
            projector = dict(projector)
            projector.setdefault('in_channels', self.backbone.embed_dim)
        self.projector = build_part(projector)
        if isinstance(predictor, dict):
            predictor = dict(predictor)
            predictor.setdefault('in_channels',
                                 self.projector.out_channels)
        self.predictor = build_part(predictor)
        self.temperature = temperature
        self.momentum_cosine = momentum_cosine
        self.stop_grad_patch_proj = stop_grad_patch_proj
        if stop_grad_patch_proj:
            self.backbone.patch_embed.proj.requires_grad_(False)
        # backbone + projector, not the predictor; never trained directly
        self.momentum_encoder = nn.ModuleDict(dict(
            backbone=copy.deepcopy(self.backbone),
            projector=copy.deepcopy(self.projector)))
        self.momentum_encoder.requires_grad_(False)

    def init_weights(self):
        super().init_weights()
        # a pretrained init of the base encoder reaches the momentum copy
        with torch.no_grad():
            for name in ('backbone', 'projector'):
                for p_m, p in zip(self.momentum_encoder[name].parameters(),
                                  getattr(self, name).parameters()):
                    p_m.copy_(p)

    def momentum(self) -> float:
        """m for the current iteration."""
        if not self.momentum_cosine:
            return self.base_momentum
        it, max_iters, _ = training_progress()
        return cosine_momentum(self.base_momentum, it, max_iters)

    @torch.no_grad()
    def update_momentum_encoder(self, m: float) -> None:
        ema_update_(self.momentum_encoder['backbone'], self.backbone, m)
        ema_update_(self.momentum_encoder['projector'], self.projector, m)

    def query(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(self.projector(self.backbone(x)))

    @torch.no_grad()
    def key(self, x: torch.Tensor) -> torch.Tensor:
        enc = self.momentum_encoder
        return enc['projector'](enc['backbone'](x))

    def loss(self, inputs, data_samples=None) -> dict:
        x1, x2 = self._two_views(inputs)
        m = self.momentum()
        if self.training:  # before the keys, as the reference
            self.update_momentum_encoder(m)
        q1, q2 = self.query(x1), self.query(x2)
        k1, k2 = self.key(x1), self.key(x2)
        loss = contrastive_loss(q1, k2, self.temperature) + \
            contrastive_loss(q2, k1, self.temperature)
        return dict(loss=loss, momentum=torch.tensor(m))

    @staticmethod
    def _two_views(inputs):
        if isinstance(inputs, torch.Tensor):
            raise ValueError(
                'MoCoV3 needs two augmented views of each image, got a '
                f'single batch of shape {tuple(inputs.shape)}; put '
                "dict(type='MultiView', pipelines=[view1, view2]) before "
                'PackInputs in the pipeline')
        if len(inputs) != 2:
            raise ValueError(f'MoCoV3 needs exactly 2 views per image, got '
                             f'{len(inputs)}')
        if inputs[0].shape != inputs[1].shape:
            raise ValueError(f'MoCoV3: the two views differ in shape, '
                             f'{tuple(inputs[0].shape)} and '
                             f'{tuple(inputs[1].shape)}')
        return inputs[0], inputs[1]
