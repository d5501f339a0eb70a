"""A linear classification head and its loss.

The loss follows the targets it is given: hard labels (``gt_label``) train
with cross-entropy (optionally label-smoothed); soft targets (``gt_score``,
written by mixup/cutmix in the data preprocessor, label smoothing already
folded in) train with timm's ``SoftTargetCrossEntropy``, as MAE's finetune.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.loss import SoftTargetCrossEntropy

from easymae.registry import MODELS


@MODELS.register_module()
class LinearClsHead(nn.Module):
    """Args:
        num_classes: number of classes.
        in_channels: width of the pooled feature.
        init_std: std of the truncated-normal weight init. MAE uses 2e-5 for
            finetuning (a near-zero head barely disturbs the pretrained
            features in the first steps) and 0.01 for linear probing.
        label_smoothing: for hard-label cross-entropy only; with mixup the
            smoothing lives in the soft targets instead.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 init_std: float = 2e-5, label_smoothing: float = 0.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'LinearClsHead: num_classes must be >= 1, got '
                             f'{num_classes}')
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'LinearClsHead: label_smoothing must be in '
                             f'[0, 1), got {label_smoothing}')
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=init_std)
        nn.init.zeros_(self.fc.bias)
        self.soft_target_loss = SoftTargetCrossEntropy()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(feats)

    def loss(self, feats: torch.Tensor, data_samples: dict) -> torch.Tensor:
        logits = self(feats).float()
        if 'gt_score' in data_samples:
            target = data_samples['gt_score'].to(logits)
            if target.shape != logits.shape:
                raise ValueError(f'LinearClsHead: soft targets have shape '
                                 f'{tuple(target.shape)}, logits '
                                 f'{tuple(logits.shape)}')
            return self.soft_target_loss(logits, target)
        labels = data_samples['gt_label'].to(logits.device).long()
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(f'LinearClsHead: label {int(labels.max())} out '
                             f'of range for {self.num_classes} classes')
        return F.cross_entropy(logits, labels,
                               label_smoothing=self.label_smoothing)
