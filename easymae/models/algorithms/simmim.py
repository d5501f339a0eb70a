"""SimMIM: a Simple Framework for Masked Image Modeling (Xie et al., 2021).

Read top to bottom like the reference ``models/simmim.py``: the encoder sees
*every* patch, masked ones replaced by a learnable mask token; a 1x1 conv and
a pixel shuffle predict raw pixels; the loss is L1 on masked pixels only.
Because the encoder processes all tokens (four times the tokens of MAE's
encoder at its 75% ratio), it is the comparison point for MAE's asymmetric
design.

Position embedding: like the reference, positions are added *after* the
mask token replaces a patch, so a masked token is ``mask_token + pos`` and
the encoder knows where each hole is.
"""
import math

import torch
import torch.nn as nn

from easymae.registry import MODELS
from .base import BaseAlgorithm

MASK_SOURCES = ('auto', 'data', 'device')


@MODELS.register_module()
class SimMIM(BaseAlgorithm):
    """Args:
        backbone: a ``VisionTransformer`` config (timm parameter names).
        neck: a ``SimMIMDecoder`` config; ``in_channels``, ``encoder_stride``
            and ``out_chans`` default to the backbone's width, patch size and
            channels.
        head: a ``SimMIMHead`` config; ``patch_size`` and ``in_chans`` default
            to the backbone's.
        mask_source: where the mask comes from. 'data':
            ``data_samples['mask']`` from ``SimMIMMaskGenerator`` in the
            pipeline (the reference); 'device': drawn inside the model on
            the inputs' device (synthetic benchmarks, no pipeline needed);
            'auto': the data's mask when present, else drawn on the device.
        mask_ratio, mask_patch_size: the device-drawn mask's settings, the
            same rule as ``SimMIMMaskGenerator``.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 mask_source: str = 'auto', mask_ratio: float = 0.6,
                 mask_patch_size: int = 32, data_preprocessor=None,
                 init_cfg=None):
        if mask_source not in MASK_SOURCES:
            raise ValueError(f'SimMIM: mask_source must be one of '
                             f'{MASK_SOURCES}, got {mask_source!r}')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        vit = self.backbone
        if isinstance(neck, dict):
            neck = dict(neck)
            neck.setdefault('in_channels', vit.embed_dim)
            neck.setdefault('encoder_stride', vit.patch_size)
            neck.setdefault('out_chans', vit.in_chans)
        if isinstance(head, dict):
            head = dict(head)
            head.setdefault('patch_size', vit.patch_size)
            head.setdefault('in_chans', vit.in_chans)
        self.neck = MODELS.build(neck) if isinstance(neck, dict) else neck
        self.head = MODELS.build(head) if isinstance(head, dict) else head
        self.mask_source = mask_source
        self.mask_ratio = mask_ratio
        self.mask_patch_size = mask_patch_size
        if mask_source != 'data':
            self._check_device_mask_settings()
        # At algorithm level (not in the backbone) so that the state dict
        # names it plain `mask_token`: pretraining-only, a converter drops it.
        self.mask_token = nn.Parameter(torch.zeros(1, 1, vit.embed_dim))
        # truncated at one std, as the reference initialises it
        nn.init.trunc_normal_(self.mask_token, std=0.02, a=-0.02, b=0.02)

    def _check_device_mask_settings(self):
        img, p = self.backbone.img_size, self.backbone.patch_size
        if self.mask_patch_size <= 0 or img % self.mask_patch_size:
            raise ValueError(f'SimMIM: backbone img_size {img} is not '
                             f'divisible by mask_patch_size '
                             f'{self.mask_patch_size}')
        if self.mask_patch_size % p:
            raise ValueError(f'SimMIM: mask_patch_size {self.mask_patch_size}'
                             f' is not divisible by the backbone patch_size '
                             f'{p}')
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f'SimMIM: mask_ratio must be in (0, 1), got '
                             f'{self.mask_ratio}')

    # ------------------------------------------------------------ mask
    def generate_mask(self, n: int, device=None) -> torch.Tensor:
        """(n, h, w) uint8 patch-grid masks drawn on ``device``: exactly
        ``ceil(ratio * cells)`` random coarse cells per image, each spread
        over ``mask_patch_size / patch_size`` patches a side."""
        self._check_device_mask_settings()
        cells = self.backbone.img_size // self.mask_patch_size
        scale = self.mask_patch_size // self.backbone.patch_size
        count = int(math.ceil(cells * cells * self.mask_ratio))
        noise = torch.rand(n, cells * cells, device=device)
        ids_mask = noise.argsort(dim=1)[:, :count]
        coarse = torch.zeros(n, cells * cells, dtype=torch.uint8,
                             device=device)
        coarse.scatter_(1, ids_mask, 1)
        coarse = coarse.view(n, cells, cells)
        return coarse.repeat_interleave(scale, 1).repeat_interleave(scale, 2)

    def get_mask(self, inputs: torch.Tensor, data_samples=None):
        mask = None
        if self.mask_source != 'device' and isinstance(data_samples, dict):
            mask = data_samples.get('mask')
        if mask is None:
            if self.mask_source == 'data':
                raise KeyError(
                    "SimMIM: mask_source='data' but data_samples has no "
                    "'mask'; add SimMIMMaskGenerator to the pipeline and "
                    "'mask' to PackInputs' meta_keys (or set "
                    "model.mask_source='auto')")
            return self.generate_mask(inputs.shape[0], inputs.device)
        mask = torch.as_tensor(mask, device=inputs.device)
        grid = self.backbone.grid_size
        if tuple(mask.shape) != (inputs.shape[0], grid, grid):
            raise ValueError(
                f'SimMIM: mask has shape {tuple(mask.shape)}, expected '
                f'{(inputs.shape[0], grid, grid)} (batch, patch grid); does '
                f"the mask generator's model_patch_size match the backbone's "
                f'patch_size {self.backbone.patch_size}?')
        return mask

    # ------------------------------------------------------ the model
    def forward_encoder(self, imgs: torch.Tensor,
                        mask: torch.Tensor) -> torch.Tensor:
        """imgs (N, C, H, W), mask (N, h, w) -> feature map (N, D, h, w)."""
        vit = self.backbone
        x = vit.patch_embed(imgs)  # (N, L, D), no positions yet
        N, L, _ = x.shape
        mask_tokens = self.mask_token.expand(N, L, -1)
        w = mask.flatten(1).unsqueeze(-1).type_as(mask_tokens)
        x = x * (1 - w) + mask_tokens * w
        x = x + vit.pos_embed[:, 1:, :]  # after replacement, as reference
        x = vit.prepend_cls(x)
        x = vit.encode(x)
        x = x[:, 1:]  # drop cls
        h = w = vit.grid_size
        return x.transpose(1, 2).reshape(N, -1, h, w)

    def forward_decoder(self, z: torch.Tensor) -> torch.Tensor:
        return self.neck(z)

    def forward_loss(self, imgs, x_rec, mask):
        return self.head.loss(x_rec, imgs, mask)

    def loss(self, inputs, data_samples=None) -> dict:
        mask = self.get_mask(inputs, data_samples)
        z = self.forward_encoder(inputs, mask)
        x_rec = self.forward_decoder(z)
        return dict(loss=self.forward_loss(inputs, x_rec, mask))

    @torch.no_grad()
    def predict(self, inputs, data_samples=None):
        """Reconstruct: dicts with ``pred`` (C, H, W, in the normalised input
        space), ``mask`` (h, w) patch mask and the image's masked L1 loss."""
        mask = self.get_mask(inputs, data_samples)
        x_rec = self.forward_decoder(self.forward_encoder(inputs, mask))
        out = []
        for pred, img, m in zip(x_rec, inputs, mask):
            loss = self.head.loss(pred[None], img[None], m[None])
            out.append(dict(pred=pred, mask=m, loss=loss))
        return out
