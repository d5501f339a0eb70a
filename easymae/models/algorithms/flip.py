"""Scaling Language-Image Pre-training via Masking (FLIP; Li et al., 2023).

CLIP with MAE's trick: before the image encoder, a random share of the
image patches (50% or 75%) is removed, so each step costs a fraction and
more image-text pairs fit in a batch. The encoded visible patches are
average-pooled and projected; the caption goes through a causal text
transformer pooled at its end-of-text token. Both are L2-normalised and
matched with a symmetric InfoNCE loss whose temperature is learned.
Training ends with a short unmasked tuning (``mask_ratio=0``, a config).

Under DDP each rank gathers every rank's features (with their gradients)
and scores only its own pairs against all of them (open_clip's
``local_loss``): its logits are (local x global), not (global x global),
yet the negatives are the *global* batch, so more processes give more
negatives. The mean of the ranks' losses is the global-batch loss, and DDP
gives every parameter its one-process gradient (``utils/gather.py``).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank

from easymae.registry import MODELS
from ..utils.gather import gather_with_grad
from ..utils.masking import random_masking
from .base import BaseAlgorithm, build_part


def num_kept_patches(num_patches: int, mask_ratio: float) -> int:
    """Patches the image encoder sees: ``int(L * (1 - mask_ratio))``, at
    least one, as the reference MAE and open_clip's ``PatchDropout``
    (e.g. 196 patches at 0.9 keep 19)."""
    return max(1, int(num_patches * (1 - mask_ratio)))


def clip_logits(image_feats, text_feats, all_image_feats, all_text_feats,
                logit_scale):
    """This rank's rows against every rank's columns, both (n, N)."""
    logits_per_image = logit_scale * image_feats @ all_text_feats.t()
    logits_per_text = logit_scale * text_feats @ all_image_feats.t()
    return logits_per_image, logits_per_text


def clip_loss(image_feats: torch.Tensor, text_feats: torch.Tensor,
              logit_scale: torch.Tensor,
              all_image_feats: Optional[torch.Tensor] = None,
              all_text_feats: Optional[torch.Tensor] = None,
              rank: int = 0) -> torch.Tensor:
    """Symmetric InfoNCE of this rank's pairs (open_clip's ``local_loss``).

    image_feats, text_feats: (n, E), L2-normalised, row i a matching pair.
    all_image_feats, all_text_feats: (N, E), every rank's features in rank
    order (default: the local ones, N = n); local pair i is then global
    column ``rank * n + i``. Averaged over ranks, this is the InfoNCE of
    the full (N, N) logit matrix.
    """
    if all_image_feats is None:
        all_image_feats, all_text_feats = image_feats, text_feats
    logits_per_image, logits_per_text = clip_logits(
        image_feats, text_feats, all_image_feats, all_text_feats,
        logit_scale)
    n = image_feats.shape[0]
    labels = torch.arange(n, device=image_feats.device) + rank * n
    return (F.cross_entropy(logits_per_image, labels) +
            F.cross_entropy(logits_per_text, labels)) / 2


@MODELS.register_module()
class FLIP(BaseAlgorithm):
    """Args:
        backbone: the image tower, a ``VisionTransformer`` config; its
            ``global_pool`` ('avg' in FLIP, 'token' possible) pools it.
        text_backbone: a ``TextTransformer`` config; its ``embed_dim`` is
            set to this model's ``embed_dim``.
        embed_dim: size of the joint image-text space (512 B, 768 L).
        mask_ratio: share of image patches removed in training (0 = CLIP /
            unmasked tuning, 0.5, 0.75). Evaluation never masks.
        text_mask_ratio: share of text tokens removed in training (the
            paper's text-masking ablation; 0 = off).
        logit_scale_init: initial temperature inverse, 1/0.07 as in CLIP.
        logit_scale_max: cap of the learned scale (100): the parameter
            itself is clamped to ``[0, ln max]`` after every optimizer step.
    """

    def __init__(self, backbone: dict, text_backbone: dict,
                 embed_dim: int = 512, mask_ratio: float = 0.5,
                 text_mask_ratio: float = 0.0,
                 logit_scale_init: float = 1 / 0.07,
                 logit_scale_max: float = 100.0,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        for name, r in (('mask_ratio', mask_ratio),
                        ('text_mask_ratio', text_mask_ratio)):
            if not 0.0 <= r < 1.0:
                raise ValueError(f'FLIP: {name} must be in [0, 1), got {r}')
        if not 0 < logit_scale_init <= logit_scale_max:
            raise ValueError(f'FLIP: need 0 < logit_scale_init '
                             f'({logit_scale_init}) <= logit_scale_max '
                             f'({logit_scale_max})')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        if self.backbone.global_pool not in ('avg', 'token'):
            raise ValueError("FLIP: the image backbone needs global_pool "
                             f"'avg' or 'token', got "
                             f'{self.backbone.global_pool!r}')
        if isinstance(text_backbone, dict):
            text_backbone = dict(text_backbone)
            text_backbone.setdefault('embed_dim', embed_dim)
        self.text_backbone = build_part(text_backbone)
        if self.text_backbone.embed_dim != embed_dim:
            raise ValueError(f'FLIP: text_backbone.embed_dim '
                             f'{self.text_backbone.embed_dim} != embed_dim '
                             f'{embed_dim}')
        self.image_proj = nn.Linear(self.backbone.embed_dim, embed_dim,
                                    bias=False)
        nn.init.normal_(self.image_proj.weight,
                        std=self.backbone.embed_dim ** -0.5)
        self.embed_dim = embed_dim
        self.mask_ratio = mask_ratio
        self.text_mask_ratio = text_mask_ratio
        # learned in log space; the parameter is kept in [0, ln max] (see
        # clamp_logit_scale_), so exp() is never cut off and never loses its
        # gradient
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(logit_scale_init)))
        self.logit_scale_max = logit_scale_max
        # class-name text embeddings for zero-shot prediction; set by
        # ZeroShotClassifierHook, not part of the checkpoint
        self.register_buffer('zero_shot_weights', None, persistent=False)

    @property
    def context_length(self) -> int:
        return self.text_backbone.context_length

    # ----------------------------------------------------------- towers
    def extract_image_feat(self, imgs: torch.Tensor, mask_ratio: float = 0.0,
                           noise: Optional[torch.Tensor] = None
                           ) -> torch.Tensor:
        """(N, C, H, W) normalised pixels -> (N, E) unit vectors."""
        vit = self.backbone
        x = vit.embed(imgs)  # (N, L, D), with positions
        if mask_ratio > 0:
            keep = num_kept_patches(x.shape[1], mask_ratio)
            x, _, _, _ = random_masking(x, mask_ratio, noise, len_keep=keep)
        x = vit.encode(vit.prepend_cls(x))
        return F.normalize(self.image_proj(vit.pool(x)), dim=-1)

    def extract_text_feat(self, text: torch.Tensor, mask_ratio: float = 0.0
                          ) -> torch.Tensor:
        """(N, T) token ids -> (N, E) unit vectors."""
        return F.normalize(self.text_backbone(text, mask_ratio), dim=-1)

    def get_logit_scale(self) -> torch.Tensor:
        return self.logit_scale.exp()

    @torch.no_grad()
    def clamp_logit_scale_(self) -> None:
        """Cap the parameter itself, as open_clip does after each step."""
        self.logit_scale.clamp_(0, math.log(self.logit_scale_max))

    # ------------------------------------------------------------ train
    def train_step(self, data, optim_wrapper) -> dict:
        log_vars = super().train_step(data, optim_wrapper)
        # on iterations without an optimizer step (gradient accumulation)
        # the parameter has not moved and this changes nothing
        self.clamp_logit_scale_()
        return log_vars

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict:
        text = self._text_of(data_samples)
        image_feats = self.extract_image_feat(inputs, self.mask_ratio).float()
        text_feats = self.extract_text_feat(text, self.text_mask_ratio).float()
        # every rank's pairs are negatives for this rank's pairs
        all_image_feats = gather_with_grad(image_feats)
        all_text_feats = gather_with_grad(text_feats)
        scale = self.get_logit_scale()
        loss = clip_loss(image_feats, text_feats, scale, all_image_feats,
                         all_text_feats, rank=get_rank())
        return dict(loss=loss, logit_scale=scale.detach())

    @staticmethod
    def _text_of(data_samples) -> torch.Tensor:
        text = data_samples.get('text') if isinstance(data_samples, dict) \
            else None
        if text is None:
            raise KeyError("FLIP: data_samples['text'] (token ids) is "
                           "missing; add Tokenize to the pipeline and "
                           "'text' to PackInputs' meta_keys")
        if isinstance(text, (list, tuple)):
            text = torch.stack(list(text))
        return text.long()

    # --------------------------------------------------------- predict
    def set_zero_shot_weights(self, weights: torch.Tensor) -> None:
        """(num_classes, E) normalised class embeddings for ``predict``."""
        if weights.dim() != 2 or weights.shape[1] != self.embed_dim:
            raise ValueError(f'FLIP: zero-shot weights must be (C, '
                             f'{self.embed_dim}), got {tuple(weights.shape)}')
        self.zero_shot_weights = weights.to(self.logit_scale.device)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples=None) -> list:
        """Zero-shot classification: one dict per image with ``pred_score``
        (softmax over classes) and ``gt_label`` when the batch has it."""
        if self.zero_shot_weights is None:
            raise RuntimeError(
                'FLIP.predict needs class embeddings: add '
                "dict(type='ZeroShotClassifierHook', templates=...) to "
                'custom_hooks, or call set_zero_shot_weights()')
        feats = self.extract_image_feat(inputs).float()
        logits = self.get_logit_scale() * feats @ \
            self.zero_shot_weights.float().t()
        scores = logits.softmax(dim=-1)
        labels = None
        if isinstance(data_samples, dict) and 'gt_label' in data_samples:
            labels = torch.as_tensor(data_samples['gt_label']).view(-1)
        return [dict(pred_score=s,
                     gt_label=None if labels is None else labels[i])
                for i, s in enumerate(scores)]

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            # DDP's train_step (MMDistributedDataParallel) runs this forward
            # but not the module's train_step: cap the value the last step
            # left before it is used (a no-op when train_step already did)
            self.clamp_logit_scale_()
        if mode == 'tensor':
            return self.extract_image_feat(inputs)
        return super().forward(inputs, data_samples, mode)
