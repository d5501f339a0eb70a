"""Masked-token accuracy and perplexity of a masked language model.

Reads what ``BERT.predict`` returns per sequence (masked tokens, how many
were predicted right, their summed negative log-likelihood) and reports,
over every masked token of the evaluation set, ``mlm/accuracy`` (percent)
and ``mlm/perplexity`` = exp(mean NLL). Sums, not means of per-batch
means, so the figures do not depend on the batch size or the number of
processes.
"""
import math
from typing import List, Sequence

from mmengine.evaluator import BaseMetric

from easymae.registry import METRICS


@METRICS.register_module()
class MaskedLMMetric(BaseMetric):

    default_prefix = 'mlm'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [k for k in ('mlm_count', 'mlm_correct', 'mlm_nll')
                       if k not in sample]
            if missing:
                raise ValueError(f'MaskedLMMetric: a prediction lacks '
                                 f'{missing}; the model must be a masked '
                                 'language model (BERT)')
            self.results.append(dict(count=int(sample['mlm_count']),
                                     correct=float(sample['mlm_correct']),
                                     nll=float(sample['mlm_nll'])))

    def compute_metrics(self, results: List[dict]) -> dict:
        count = sum(r['count'] for r in results)
        if not count:
            raise ValueError('MaskedLMMetric: no masked tokens in the '
                             'evaluation set (empty sequences?)')
        correct = sum(r['correct'] for r in results)
        nll = sum(r['nll'] for r in results)
        return dict(accuracy=100.0 * correct / count,
                    perplexity=math.exp(min(nll / count, 50.0)),
                    tokens=count)
