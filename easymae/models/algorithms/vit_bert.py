"""Towards a Unified Foundation Model: Jointly Pre-Training Transformers on
Unpaired Images and Text (Li et al., 2021).

One transformer encoder learns from images and from text at once, with no
paired data: every step holds a batch of each.

* Thin modality-specific tokenizers: images as ViT (patches -> linear
  projection, class token, position embeddings: ``backbone``'s own), text
  as BERT (word-piece + position + segment embeddings: ``text_embed``). No
  modality-type embedding.
* One shared encoder: the ViT's blocks and final norm (``backbone.blocks``,
  ``backbone.norm``), which hold nearly all parameters.
* Task heads, each a two-layer MLP with GELU as wide as the encoder: image
  classification on the class token's final embedding (``image_head``),
  masked language modelling on the masked tokens' (``text_head``, BERT's
  head decoding with the word embedding).
* Knowledge distillation from two separately trained teachers (a ViT, a
  BERT): per task ``alpha * CE + (1 - alpha) * tau^2 * KL(teacher||student)``.
* Gradient masking lives in the optimizer (``GradientMaskOptimWrapper``),
  which reads the two losses through ``pop_task_losses``.

Teachers are no part of the module tree: they are not in ``parameters()``
(so never in the optimizer or DDP), nor in the state dict (checkpoints hold
the student alone), nor switched to train mode; ``_apply`` still moves
them with the student (``.to(device)``, ``.cuda()``).
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS
from ..utils.attention import choose_attention_kernel
from ..utils.distill import build_teacher, distill_loss, load_teacher
from ..utils.text_inputs import resolve_vocab, text_masks
from .base import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BaseAlgorithm,
    build_part,
    classification_results,
)
from .bert import mask_tokens


@MODELS.register_module()
class ViTBERT(BaseAlgorithm):
    """Args:
        backbone: a ``VisionTransformer``: the image tokenizer and the
            shared encoder.
        text_embed: a ``TextEmbedding`` (its ``embed_dim`` defaults to the
            backbone's, ``vocab_size`` to the vocabulary's).
        image_head: an ``MLPClsHead`` (``in_channels`` defaults to the
            width); None for a subclass with its own image task.
        text_head: a ``MaskedLMHead`` (None: the default).
        vocab_file: the tokenizer file; a ``text_embed.vocab_size`` that
            differs is an error naming both.
        mask_ratio, mask_token_prob, random_token_prob: BERT's masking.
        image_teacher, text_teacher: ``dict(model=..., checkpoint=PATH)``
            of an ``ImageClassifier`` / ``BERT``, or None (no distillation
            for that task).
        alpha, tau: the distillation mix and temperature.
    """

    def __init__(self, backbone: dict, text_embed: dict,
                 image_head: Optional[dict] = None,
                 text_head: Optional[dict] = None,
                 vocab_file: Optional[str] = None, mask_ratio: float = 0.15,
                 mask_token_prob: float = 0.8,
                 random_token_prob: float = 0.1,
                 mask_token_id: Optional[int] = None,
                 special_token_ids: Optional[Sequence[int]] = None,
                 image_teacher: Optional[dict] = None,
                 text_teacher: Optional[dict] = None, alpha: float = 0.5,
                 tau: float = 1.0, data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'ViTBERT: mask_ratio must be in (0, 1), got '
                             f'{mask_ratio}')
        if not 0.0 <= alpha <= 1.0 or not tau > 0:
            raise ValueError(f'ViTBERT: need alpha in [0, 1] and tau > 0, '
                             f'got alpha={alpha}, tau={tau}')
        if data_preprocessor is None:
            data_preprocessor = dict(type='JointDataPreprocessor',
                                     mean=IMAGENET_MEAN, std=IMAGENET_STD)
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        width = self.backbone.embed_dim
        text_embed = dict(text_embed, embed_dim=text_embed.get(
            'embed_dim', width))
        text_embed, specials = resolve_vocab(text_embed, vocab_file,
                                             'ViTBERT', mask_token_id,
                                             special_token_ids)
        self.text_embed = build_part(text_embed)
        if self.text_embed.embed_dim != width:
            raise ValueError(f'ViTBERT: text_embed.embed_dim '
                             f'{self.text_embed.embed_dim} differs from the '
                             f'shared encoder width {width}')
        if image_head is not None:
            image_head = dict(image_head, in_channels=image_head.get(
                'in_channels', width))
        self.image_head = build_part(image_head)
        text_head = dict(text_head or dict(type='MaskedLMHead'))
        text_head.setdefault('embed_dim', width)
        text_head.setdefault('vocab_size', self.text_embed.vocab_size)
        self.text_head = build_part(text_head)
        self.vocab_file = vocab_file
        self.mask_ratio = mask_ratio
        self.mask_token_prob = mask_token_prob
        self.random_token_prob = random_token_prob
        self.mask_token_id = specials['mask']
        self.alpha, self.tau = alpha, tau
        vocab = self.text_embed.vocab_size
        special = torch.tensor(specials['all'], dtype=torch.long)
        replace = torch.ones(vocab, dtype=torch.bool)
        replace[special[special < vocab]] = False
        self.register_buffer('special_ids', special, persistent=False)
        self.register_buffer('replace_ids', replace.nonzero().flatten(),
                             persistent=False)
        # outside the module tree on purpose (see the module docstring)
        teachers: Dict[str, nn.Module] = {}
        if image_teacher is not None:
            teachers['image'] = build_teacher(image_teacher,
                                              'model.image_teacher')
            self._check_image_teacher(teachers['image'])
        if text_teacher is not None:
            teachers['text'] = build_teacher(text_teacher,
                                             'model.text_teacher')
            theirs = teachers['text'].backbone.vocab_size
            if theirs != vocab:
                raise ValueError(
                    f'ViTBERT: the text teacher '
                    f"({text_teacher['checkpoint']}) has {theirs} tokens, "
                    f'the student {vocab}; both must use one vocabulary')
        object.__setattr__(self, 'teachers', teachers)
        object.__setattr__(self, '_teacher_files', {
            m: cfg['checkpoint'] for m, cfg in (('image', image_teacher),
                                                ('text', text_teacher))
            if cfg is not None})
        object.__setattr__(self, '_teachers_loaded', False)
        object.__setattr__(self, '_task_losses', None)

    def init_weights(self):
        """The student's init_cfg, then the teachers' checkpoints (so a
        config check, which builds without initialising, needs no file)."""
        super().init_weights()
        for modality, teacher in self.teachers.items():
            load_teacher(teacher, self._teacher_files[modality],
                         f'model.{modality}_teacher', modality)
        object.__setattr__(self, '_teachers_loaded', True)

    def _check_image_teacher(self, teacher: nn.Module) -> None:
        classes = getattr(self.image_head, 'num_classes', None)
        theirs = teacher.head.num_classes
        if classes is not None and theirs != classes:
            raise ValueError(f'ViTBERT: the image teacher has {theirs} '
                             f'classes, model.image_head.num_classes is '
                             f'{classes}')
        if teacher.backbone.img_size != self.backbone.img_size:
            raise ValueError(f'ViTBERT: the image teacher takes '
                             f'{teacher.backbone.img_size} px images, the '
                             f'student {self.backbone.img_size} px')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for teacher in self.teachers.values():
            teacher._apply(fn, *args, **kwargs)
        return self

    # ------------------------------------------------------ the encoder
    def forward_image(self, imgs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 1 + L, D): class token first."""
        return self.backbone.forward_features(imgs)

    def forward_text(self, input_ids, attention_mask=None,
                     token_type_ids=None) -> torch.Tensor:
        """(N, T) ids -> (N, T, D); padding is never attended to."""
        x = self.text_embed(input_ids, token_type_ids)
        attn_mask = None if attention_mask is None else \
            attention_mask.bool()[:, None, None, :]
        choose_attention_kernel(self.backbone.blocks, x,
                                self.backbone.fused_attn)
        for blk in self.backbone.blocks:
            x = blk(x, attn_mask=attn_mask)
        return self.backbone.norm(x)

    # ----------------------------------------------------------- tasks
    def distill(self, logits, labels, teacher_logits) -> torch.Tensor:
        if teacher_logits is None:
            return F.cross_entropy(logits.float(), labels)
        return distill_loss(logits, labels, teacher_logits, self.alpha,
                            self.tau)

    def image_loss(self, imgs: torch.Tensor, samples: dict) -> torch.Tensor:
        if not samples or 'gt_label' not in samples:
            raise ValueError("ViTBERT: the image batch has no 'gt_label'; "
                             'check that the image pipeline packs it')
        labels = samples['gt_label'].to(imgs.device).long().flatten()
        logits = self.image_head(self.forward_image(imgs)[:, 0])
        teacher_logits = None
        if 'image' in self.teachers:
            with torch.no_grad():
                t = self.teachers['image']
                teacher_logits = t.head(t.extract_feat(imgs))
        return self.distill(logits, labels, teacher_logits)

    def text_loss(self, ids: torch.Tensor, samples: dict) -> torch.Tensor:
        vocab = self.text_embed.vocab_size
        if ids.numel() and (int(ids.max()) >= vocab or int(ids.min()) < 0):
            raise ValueError(
                f'ViTBERT: a text batch holds token id {int(ids.max())}, '
                f'beyond the student\'s vocabulary of {vocab} '
                '(model.text_embed.vocab_size); the text pipeline and '
                f'model.vocab_file ({self.vocab_file}) must be one '
                'vocabulary')
        attention_mask, token_type_ids = text_masks(ids, samples)
        maskable = attention_mask.bool() & ~torch.isin(ids, self.special_ids)
        corrupted, mask = mask_tokens(
            ids, maskable, self.mask_ratio, self.mask_token_id,
            self.replace_ids, self.mask_token_prob, self.random_token_prob)
        hidden = self.forward_text(corrupted, attention_mask, token_type_ids)
        logits = self.text_head(hidden[mask],
                                self.text_embed.word_embed.weight)
        teacher_logits = None
        if 'text' in self.teachers:
            with torch.no_grad():
                t = self.teachers['text']
                t_hidden = t.forward_encoder(corrupted, attention_mask,
                                             token_type_ids)
                teacher_logits = t.forward_head(t_hidden[mask])
        return self.distill(logits, ids[mask], teacher_logits)

    def loss(self, inputs: dict, data_samples: Optional[dict] = None) -> dict:
        if not isinstance(inputs, dict) or \
                {'image', 'text'} - set(inputs):
            got = sorted(inputs) if isinstance(inputs, dict) else \
                type(inputs).__name__
            raise ValueError(
                f'ViTBERT needs a batch of both images and text every step '
                f"(inputs with 'image' and 'text'), got {got}; use "
                'JointDataset + JointSampler + joint_collate')
        if self.teachers and not self._teachers_loaded:
            raise RuntimeError('ViTBERT: the teachers have no weights yet; '
                               'call init_weights() (the runner does)')
        data_samples = data_samples or {}
        losses = dict(
            loss_image=self.image_loss(inputs['image'],
                                       data_samples.get('image')),
            loss_text=self.text_loss(inputs['text'],
                                     data_samples.get('text')))
        object.__setattr__(self, '_task_losses',
                           dict(image=losses['loss_image'],
                                text=losses['loss_text']))
        return losses

    def pop_task_losses(self) -> Dict[str, torch.Tensor]:
        """Each task's loss of the last forward, for the gradient masking
        wrapper (and forgotten, so no graph outlives the step)."""
        losses = self._task_losses
        if losses is None:
            raise RuntimeError('ViTBERT.pop_task_losses: no loss forward '
                               'since the last call')
        object.__setattr__(self, '_task_losses', None)
        return losses

    @torch.no_grad()
    def predict(self, inputs, data_samples: Optional[dict] = None
                ) -> List[dict]:
        """Images alone: what ``Accuracy`` reads, as ImageClassifier's."""
        if isinstance(inputs, dict):
            inputs = inputs['image']
            data_samples = (data_samples or {}).get('image')
        return classification_results(
            self.image_head(self.forward_image(inputs)[:, 0]),
            (data_samples or {}).get('gt_label'))

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            if isinstance(inputs, dict):
                return dict(image=self.forward_image(inputs['image']),
                            text=self.forward_text(inputs['text']))
            return self.forward_image(inputs)
        return super().forward(inputs, data_samples, mode)
