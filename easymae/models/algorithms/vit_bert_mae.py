"""The label-free unified model: ViTBERT with MAE as its image task.

Li et al. (2021) train the image side with labels; without them, the image
task becomes masked-image modelling. The shared encoder sees MAE's visible
25% of patches (class token first), a light decoder (``neck``, image-only)
reconstructs the removed ones, and the loss is MAE's on removed patches;
the text side stays masked language modelling. With no labels there is no
image teacher to distil from.
"""
from typing import Optional

import torch

from easymae.registry import MODELS
from ..utils.masking import random_masking
from .base import build_part
from .vit_bert import ViTBERT


@MODELS.register_module()
class ViTBERTMAE(ViTBERT):
    """Args (beyond ViTBERT's, whose ``image_head`` and ``image_teacher``
    it does not take):
        neck: an ``MAEDecoder``; patch grid and widths default to the
            backbone's.
        head: an ``MAEPretrainHead``.
        image_mask_ratio: share of patches removed, in [0, 1).
    """

    def __init__(self, backbone: dict, text_embed: dict, neck: dict,
                 head: dict, image_mask_ratio: float = 0.75,
                 image_teacher: Optional[dict] = None, **kwargs):
        if image_teacher is not None:
            raise ValueError('ViTBERTMAE: a label-free image task has no '
                             'image teacher; remove model.image_teacher')
        if not 0.0 <= image_mask_ratio < 1.0:
            raise ValueError(f'ViTBERTMAE: image_mask_ratio must be in '
                             f'[0, 1), got {image_mask_ratio}')
        super().__init__(backbone, text_embed, image_head=None, **kwargs)
        vit = self.backbone
        neck = dict(neck)
        for key, value in (('num_patches', vit.num_patches),
                           ('patch_size', vit.patch_size),
                           ('in_chans', vit.in_chans),
                           ('embed_dim', vit.embed_dim)):
            neck.setdefault(key, value)
        self.neck = build_part(neck)
        self.head = build_part(dict(head, patch_size=head.get(
            'patch_size', vit.patch_size)))
        self.image_mask_ratio = image_mask_ratio

    def image_loss(self, imgs: torch.Tensor, samples: dict) -> torch.Tensor:
        x = self.backbone.embed(imgs)
        x, mask, ids_restore, _ = random_masking(x, self.image_mask_ratio)
        latent = self.backbone.encode(self.backbone.prepend_cls(x))
        pred = self.neck(latent, ids_restore)
        return self.head.loss(pred, imgs, mask)

    def predict(self, inputs, data_samples=None):
        raise NotImplementedError('ViTBERTMAE has no classifier; convert '
                                  'its backbone and finetune it')
