"""Image classification on a (pretrained) backbone: finetune, linear probe,
partial finetune.

    feats  = backbone(imgs)   # pooled: cls token, or patch mean + fc_norm
    feats  = neck(feats)      # optional: BatchNorm(affine=False) for probing
    logits = head(feats)

What is trained is decided by the backbone's ``frozen_stages`` (linear probe:
all blocks frozen) or by ``train_last_blocks`` here (partial finetune: only
the last k blocks, the final norm and the head learn).
"""
from typing import List, Optional

import torch

from easymae.registry import MODELS
from .base import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BaseAlgorithm,
    classification_results,
)


@MODELS.register_module()
class ImageClassifier(BaseAlgorithm):
    """Args:
        backbone: a ``VisionTransformer`` config (its ``global_pool`` picks
            'token' or 'avg' features; ``init_cfg=dict(type='Pretrained',
            checkpoint=...)`` loads a pretrain checkpoint).
        neck: optional, e.g. ``BatchNormNeck``; ``in_channels`` defaults to
            the backbone's width.
        head: a ``LinearClsHead`` config; ``in_channels`` defaults likewise.
        train_last_blocks: partial finetuning: freeze patch embedding,
            positions, cls token and all but the last k blocks. None trains
            whatever the backbone leaves trainable.
        data_preprocessor: defaults to ``ClsDataPreprocessor`` with ImageNet
            mean/std (no mixup).
    """

    def __init__(self, backbone: dict, head: dict, neck: Optional[dict] = None,
                 train_last_blocks: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ClsDataPreprocessor',
                                     mean=IMAGENET_MEAN, std=IMAGENET_STD)
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        width = getattr(self.backbone, 'embed_dim', None)
        if isinstance(neck, dict):
            neck = dict(neck)
            if width is not None:
                neck.setdefault('in_channels', width)
        if isinstance(head, dict):
            head = dict(head)
            if width is not None:
                head.setdefault('in_channels', width)
        self.neck = MODELS.build(neck) if isinstance(neck, dict) else neck
        self.head = MODELS.build(head) if isinstance(head, dict) else head
        if train_last_blocks is not None:
            self._train_only_last_blocks(int(train_last_blocks))

    def _train_only_last_blocks(self, k: int) -> None:
        depth = self.backbone.depth
        if not 0 <= k <= depth:
            raise ValueError(f'ImageClassifier: train_last_blocks must be in '
                             f'[0, {depth}] for a {depth}-block backbone, got '
                             f'{k}')
        # The backbone's own freezing (which also keeps frozen blocks in
        # eval mode, so drop path is off there) does the work.
        self.backbone.frozen_stages = depth - k
        self.backbone._freeze_stages()

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return feats

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> dict:
        if not data_samples or ('gt_label' not in data_samples
                                and 'gt_score' not in data_samples):
            raise ValueError('ImageClassifier.loss needs data_samples with '
                             "'gt_label' (or 'gt_score'); check that the "
                             'pipeline packs gt_label')
        return dict(loss=self.head.loss(self.extract_feat(inputs),
                                        data_samples))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[dict] = None) -> List[dict]:
        """One dict per image: ``pred_score`` (softmax), ``pred_label`` and,
        when known, ``gt_label``: what the ``Accuracy`` metric reads."""
        return classification_results(self.head(self.extract_feat(inputs)),
                                      (data_samples or {}).get('gt_label'))
