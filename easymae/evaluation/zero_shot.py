"""Zero-shot classification with an image-text model (CLIP's protocol).

Every class name is written into each prompt template ("a photo of a
{}."), the captions are embedded by the text tower, normalised, averaged
over templates and normalised again: one unit vector per class. An image is
then classified by its cosine similarity to those vectors, with no
training on the classification data.

Three parts, wired from a config:

* ``build_zero_shot_weights(model, classnames, templates)`` -> (C, E);
* ``ZeroShotClassifierHook`` builds them before each validation / test
  from the evaluation data set's class names and hands them to the model,
  whose ``predict`` then returns class scores;
* ``ZeroShotAccuracy`` turns those scores into top-1 / top-5 accuracy.

Any labelled data source with ``classes`` works (ImageFolder, CIFAR10,
Digits, ...)::

    custom_hooks = [dict(type='ZeroShotClassifierHook', templates='cifar')]
    val_evaluator = dict(type='ZeroShotAccuracy', topk=(1, 5))

Under FSDP2 the hook calls the text tower outside the model's forward,
where the parameters that no block's forward gathers (embeddings, final
norm, projections) are shards: it all-gathers every unit first and
shards them again after (``unsharded.gathered``; all ranks run it
together).
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from easymae.registry import HOOKS, METRICS
from easymae.text import get_clip_tokenizer, get_templates
from .unsharded import gathered


@torch.no_grad()
def build_zero_shot_weights(model, classnames: Sequence[str],
                            templates: Union[str, Sequence[str]],
                            batch_size: int = 256) -> torch.Tensor:
    """(num_classes, E) unit vectors: each class's template-averaged text
    embedding. ``model`` needs ``extract_text_feat`` and
    ``context_length`` (FLIP does)."""
    templates = get_templates(templates)
    if not classnames:
        raise ValueError('zero-shot: no class names')
    tokenizer = get_clip_tokenizer(model.context_length)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        weights = []
        for name in classnames:
            tokens = tokenizer([t.format(name) for t in templates])
            feats = torch.cat([
                model.extract_text_feat(tokens[i:i + batch_size].to(device))
                for i in range(0, len(tokens), batch_size)
            ]).float()
            weights.append(F.normalize(feats.mean(dim=0), dim=-1))
    finally:
        model.train(was_training)
    return torch.stack(weights)


@HOOKS.register_module()
class ZeroShotClassifierHook(Hook):
    """Before validation and test, embed the class names of the evaluation
    data set and give them to the model (``set_zero_shot_weights``), so
    they follow the weights as training goes on.

    Args:
        templates: a template-set name ('cifar', 'imagenet', 'simple',
            'digits') or a list of strings with one ``{}``.
        classnames: readable names to use instead of the data set's
            ``classes`` (same order), e.g. 'car' for 'automobile'.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, templates: Union[str, Sequence[str]] = 'simple',
                 classnames: Optional[Sequence[str]] = None):
        self.templates = get_templates(templates)
        self.classnames = list(classnames) if classnames else None

    def _classnames(self, dataloader) -> List[str]:
        classes = dataloader.dataset.metainfo.get('classes')
        if self.classnames is not None:
            if classes is not None and len(classes) != len(self.classnames):
                raise ValueError(
                    f'ZeroShotClassifierHook: {len(self.classnames)} '
                    f'classnames for a data set with {len(classes)} classes')
            return self.classnames
        if not classes:
            raise ValueError(
                'ZeroShotClassifierHook: the evaluation data set has no '
                "'classes' in its metainfo; pass classnames=")
        return list(classes)

    def _prepare(self, runner, dataloader) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        if not hasattr(model, 'set_zero_shot_weights'):
            raise TypeError(f'ZeroShotClassifierHook: {type(model).__name__}'
                            ' has no set_zero_shot_weights; it needs an '
                            'image-text model such as FLIP')
        names = self._classnames(dataloader)
        with gathered(model):
            weights = build_zero_shot_weights(model, names, self.templates)
        model.set_zero_shot_weights(weights)
        runner.logger.info(f'zero-shot classifier: {len(names)} classes x '
                           f'{len(self.templates)} templates')

    def before_val(self, runner) -> None:
        self._prepare(runner, runner.val_dataloader)

    def before_test(self, runner) -> None:
        self._prepare(runner, runner.test_dataloader)


@METRICS.register_module()
class ZeroShotAccuracy(BaseMetric):
    """Top-k accuracy (in %) of ``pred_score`` against ``gt_label``.

    Args:
        topk: the k values reported as ``top1``, ``top5``, ...; each must
            be at most the number of classes.
    """
    default_prefix = 'zero_shot'

    def __init__(self, topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(int(k) for k in topk)
        if not self.topk or min(self.topk) < 1:
            raise ValueError(f'ZeroShotAccuracy: topk must be positive '
                             f'integers, got {topk}')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            label = sample.get('gt_label')
            if label is None:
                raise ValueError('ZeroShotAccuracy: a prediction has no '
                                 'gt_label; evaluate on a labelled source')
            self.results.append(dict(
                score=sample['pred_score'].detach().float().cpu(),
                label=int(label)))

    def compute_metrics(self, results: list) -> dict:
        scores = torch.stack([r['score'] for r in results])
        labels = torch.tensor([r['label'] for r in results])
        num_classes = scores.shape[1]
        if max(self.topk) > num_classes:
            raise ValueError(f'ZeroShotAccuracy: top-{max(self.topk)} asked '
                             f'for {num_classes} classes')
        ranked = scores.topk(max(self.topk), dim=1).indices
        hits = ranked == labels[:, None]
        return {f'top{k}': hits[:, :k].any(dim=1).float().mean().item() * 100
                for k in self.topk}
