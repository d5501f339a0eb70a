"""Masked Autoencoders Are Scalable Vision Learners (He et al., 2021).

Read top to bottom like the reference ``models_mae.py``: the encoder sees only
the visible 25% of patches; the light decoder gets the encoded tokens plus a
shared mask token at every removed position and predicts their pixels; the
loss is the error on removed patches only.
"""
import torch
import torch.nn as nn

from easymae.registry import MODELS
from ..utils.masking import random_masking
from .base import BaseAlgorithm


@MODELS.register_module()
class MAE(BaseAlgorithm):
    """Args:
        backbone: a ``VisionTransformer`` config.
        neck: an ``MAEDecoder`` config; its ``num_patches``, ``patch_size``,
            ``in_chans`` and ``embed_dim`` default to the backbone's.
        head: an ``MAEPretrainHead`` config (``norm_pix`` switch).
        mask_ratio: share of patches removed, in [0, 1).
        encoder_mask_token: the paper's "encoder w/ [M]" ablation: the encoder
            processes every position, removed ones replaced by a mask token.
            Same loss, about 3x the encoder cost; for speed comparisons.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 mask_ratio: float = 0.75, encoder_mask_token: bool = False,
                 data_preprocessor=None, init_cfg=None):
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f'MAE: mask_ratio must be in [0, 1), got '
                             f'{mask_ratio}')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        vit = self.backbone
        if isinstance(neck, dict):
            neck = dict(neck)
            neck.setdefault('num_patches', vit.num_patches)
            neck.setdefault('patch_size', vit.patch_size)
            neck.setdefault('in_chans', vit.in_chans)
            neck.setdefault('embed_dim', vit.embed_dim)
            if neck['num_patches'] != vit.num_patches:
                raise ValueError(
                    f"MAE: neck.num_patches={neck['num_patches']} but the "
                    f'backbone has {vit.num_patches} patches')
        if isinstance(head, dict):
            head = dict(head)
            head.setdefault('patch_size', vit.patch_size)
        self.neck = MODELS.build(neck) if isinstance(neck, dict) else neck
        self.head = MODELS.build(head) if isinstance(head, dict) else head
        self.mask_ratio = mask_ratio
        self.encoder_mask_token = None
        if encoder_mask_token:
            self.encoder_mask_token = nn.Parameter(
                torch.zeros(1, 1, vit.embed_dim))
            nn.init.normal_(self.encoder_mask_token, std=0.02)

    def forward_encoder(self, imgs, mask_ratio, noise=None):
        x = self.backbone.embed(imgs)  # (N, L, D), with positions
        if self.encoder_mask_token is None:
            x, mask, ids_restore, _ = random_masking(x, mask_ratio, noise)
        else:
            _, mask, ids_restore, _ = random_masking(x, mask_ratio, noise)
            tokens = self.encoder_mask_token + self.backbone.pos_embed[:, 1:]
            x = torch.where(mask.unsqueeze(-1).bool(), tokens.to(x.dtype), x)
            ids_restore = None  # every position is already in place
        x = self.backbone.prepend_cls(x)
        x = self.backbone.encode(x)
        return x, mask, ids_restore

    def forward_decoder(self, latent, ids_restore):
        return self.neck(latent, ids_restore)

    def forward_loss(self, imgs, pred, mask):
        return self.head.loss(pred, imgs, mask)

    def loss(self, inputs, data_samples=None) -> dict:
        latent, mask, ids_restore = self.forward_encoder(inputs,
                                                         self.mask_ratio)
        pred = self.forward_decoder(latent, ids_restore)
        return dict(loss=self.forward_loss(inputs, pred, mask))

    @torch.no_grad()
    def predict(self, inputs, data_samples=None, noise=None):
        """Reconstruct: returns dicts with ``pred`` (N, L, p*p*C, in the
        loss's target space), ``mask`` (N, L) and the loss per image."""
        latent, mask, ids_restore = self.forward_encoder(
            inputs, self.mask_ratio, noise)
        pred = self.forward_decoder(latent, ids_restore)
        target = self.head.target(inputs)
        per_patch = ((pred.float() - target) ** 2).mean(-1)
        per_image = (per_patch * mask).sum(1) / mask.sum(1).clamp(min=1)
        return [dict(pred=p, mask=m, loss=loss)
                for p, m, loss in zip(pred, mask, per_image)]
