"""Top-k accuracy as an mmengine metric.

Reads what ``ImageClassifier.predict`` returns (``pred_score`` per image,
``gt_label``) and reports ``accuracy/top1``, ``accuracy/top5`` in percent.
"""
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from easymae.registry import METRICS


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Args:
        topk: the k's to report; a k larger than the number of classes is
            an error (top-5 of 3 classes would always be 100%).
    """

    default_prefix = 'accuracy'

    def __init__(self, topk: Sequence[int] = (1, 5), collect_device='cpu',
                 prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = (topk,) if isinstance(topk, int) else tuple(topk)
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f'Accuracy: topk must be positive ints, got '
                             f'{topk}')
        self.topk = tuple(int(k) for k in topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise ValueError('Accuracy: a prediction has no gt_label; '
                                 'does the evaluation pipeline pack it?')
            self.results.append(dict(
                pred_score=torch.as_tensor(sample['pred_score']).float().cpu(),
                gt_label=int(sample['gt_label'])))

    def compute_metrics(self, results: List[dict]) -> dict:
        scores = torch.stack([r['pred_score'] for r in results])
        labels = torch.tensor([r['gt_label'] for r in results])
        num_classes = scores.shape[1]
        metrics = {}
        for k in self.topk:
            if k > num_classes:
                raise ValueError(f'Accuracy: top-{k} asked for {num_classes} '
                                 'classes')
            topk_idx = scores.topk(k, dim=1).indices
            hit = (topk_idx == labels[:, None]).any(dim=1)
            metrics[f'top{k}'] = hit.float().mean().item() * 100.0
        return metrics
