"""Classification batches on the device: normalise, then mixup/cutmix.

Pipelines hand over uint8 pixels; here they become normalised floats on the
model's device, and in training the whole batch is mixed with timm's
``Mixup`` (MAE's finetune: mixup 0.8, cutmix 1.0, switch prob 0.5, label
smoothing 0.1, mode 'batch': image i is mixed with image N-1-i). The soft
targets go to ``data_samples['gt_score']``, which the head trains on with
``SoftTargetCrossEntropy``; ``gt_label`` stays for logging and metrics.
"""
from typing import Optional

from mmengine.model import ImgDataPreprocessor
from timm.data import Mixup

from easymae.registry import MODELS

# what timm's Mixup takes, so a typo in a config is an error, not ignored
_MIXUP_KEYS = ('mixup_alpha', 'cutmix_alpha', 'cutmix_minmax', 'prob',
               'switch_prob', 'mode', 'correct_lam', 'label_smoothing')


@MODELS.register_module()
class ClsDataPreprocessor(ImgDataPreprocessor):
    """Args:
        mean, std: per channel, on the 0..255 scale of the uint8 inputs.
        num_classes: needed with ``mixup``.
        mixup: None (off) or a dict of timm ``Mixup`` arguments, e.g.
            ``dict(mixup_alpha=0.8, cutmix_alpha=1.0, switch_prob=0.5,
            label_smoothing=0.1)``. Batches must be even (timm pairs image i
            with its mirror N-1-i): use ``drop_last=True`` and an even batch.
    """

    def __init__(self, mean=None, std=None, num_classes: Optional[int] = None,
                 mixup: Optional[dict] = None, **kwargs):
        super().__init__(mean=mean, std=std, **kwargs)
        self.mixup = None
        if mixup:
            unknown = sorted(set(mixup) - set(_MIXUP_KEYS))
            if unknown:
                raise ValueError(f'ClsDataPreprocessor: unknown mixup '
                                 f'option(s) {unknown}; allowed: '
                                 f'{list(_MIXUP_KEYS)}')
            if not num_classes:
                raise ValueError('ClsDataPreprocessor: mixup needs '
                                 'num_classes')
            self.mixup = Mixup(num_classes=num_classes, **mixup)
        self.num_classes = num_classes

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if not (training and self.mixup is not None):
            return data
        inputs, samples = data['inputs'], data.get('data_samples')
        if not samples or 'gt_label' not in samples:
            raise ValueError('ClsDataPreprocessor: mixup needs gt_label in '
                             'data_samples')
        if inputs.shape[0] % 2:
            raise ValueError(
                f'ClsDataPreprocessor: mixup/cutmix pairs image i with '
                f'N-1-i and needs an even batch, got {inputs.shape[0]}; set '
                'train_dataloader.drop_last=True and an even batch_size')
        labels = samples['gt_label'].to(inputs.device)
        inputs, soft_targets = self.mixup(inputs, labels)
        samples = dict(samples)
        samples['gt_score'] = soft_targets
        return dict(inputs=inputs, data_samples=samples)
