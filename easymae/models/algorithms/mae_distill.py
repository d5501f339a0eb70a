"""MAE-Lite: MAE pretraining of a small ViT guided by a larger MAE teacher.

From "A Closer Look at Self-Supervised Lightweight Vision Transformers"
(Wang et al., 2023): the teacher (an MAE-pretrained encoder, decoder
removed, frozen) encodes the *same visible patches* as the student, and the
student's attention maps at chosen layers are pulled towards the teacher's
(MSE). When head counts differ, a 1x1 convolution maps student heads to
teacher heads. The reconstruction loss is MAE's, unchanged.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from easymae.registry import MODELS
from ..utils.attention import encode_with_attention
from ..utils.masking import random_masking
from .base import build_part
from .mae import MAE


@MODELS.register_module()
class MAEAttentionDistill(MAE):
    """Args (beyond MAE's):
        teacher: a ``VisionTransformer`` config (give it
            ``init_cfg=dict(type='Pretrained', checkpoint=...)``) or module;
            its patch grid must match the student's.
        student_layers / teacher_layers: block indices whose attention maps
            are matched, pairwise (MAE-Lite: the last layer of each).
        distill_weight: weight of the attention loss.
    """

    def __init__(self, backbone, neck, head, teacher,
                 student_layers: Sequence[int] = (-1,),
                 teacher_layers: Sequence[int] = (-1,),
                 distill_weight: float = 1.0, **kwargs):
        super().__init__(backbone, neck, head, **kwargs)
        if len(student_layers) != len(teacher_layers):
            raise ValueError('MAEAttentionDistill: student_layers and '
                             'teacher_layers must pair up, got '
                             f'{student_layers} and {teacher_layers}')
        self.teacher = build_part(teacher)
        if self.teacher.num_patches != self.backbone.num_patches:
            raise ValueError(
                f'MAEAttentionDistill: teacher has {self.teacher.num_patches}'
                f' patches, student {self.backbone.num_patches}; they must '
                'see the same patch grid')
        self.teacher.requires_grad_(False)
        self.student_layers = list(student_layers)
        self.teacher_layers = list(teacher_layers)
        self.distill_weight = distill_weight
        s_heads, t_heads = self.backbone.num_heads, self.teacher.num_heads
        self.attn_adapter = (nn.Conv2d(s_heads, t_heads, 1)
                             if s_heads != t_heads else nn.Identity())

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # frozen: no dropout / drop path, ever
        return self

    def loss(self, inputs, data_samples=None) -> dict:
        # student: MAE's encoder on the visible patches, keeping attention
        x = self.backbone.embed(inputs)
        x, mask, ids_restore, ids_keep = random_masking(x, self.mask_ratio)
        x = self.backbone.prepend_cls(x)
        latent, s_maps = encode_with_attention(self.backbone, x,
                                               self.student_layers)
        pred = self.forward_decoder(latent, ids_restore)
        losses = dict(loss_rec=self.forward_loss(inputs, pred, mask))

        # teacher: the same visible patches
        with torch.no_grad():
            t = self.teacher.embed(inputs)
            t = torch.gather(t, 1, ids_keep.unsqueeze(-1).expand(
                -1, -1, t.shape[-1]))
            _, t_maps = encode_with_attention(self.teacher,
                                              self.teacher.prepend_cls(t),
                                              self.teacher_layers)
        depth_s, depth_t = len(self.backbone.blocks), len(self.teacher.blocks)
        distill = 0.0
        for s_idx, t_idx in zip(self.student_layers, self.teacher_layers):
            s_attn = self.attn_adapter(s_maps[s_idx % depth_s])
            distill = distill + F.mse_loss(s_attn.float(),
                                           t_maps[t_idx % depth_t].float())
        losses['loss_attn'] = self.distill_weight * distill / len(
            self.student_layers)
        return losses
