"""Metrics (accuracy, zero-shot) register here."""
from easymae.text import TEMPLATES, get_templates
from .accuracy import Accuracy
from .knn import KNNBankTooLarge, knn_accuracy, knn_scores
from .mlm_metric import MaskedLMMetric
from .zero_shot import (
    ZeroShotAccuracy,
    ZeroShotClassifierHook,
    build_zero_shot_weights,
)

__all__ = ['Accuracy', 'TEMPLATES', 'get_templates', 'ZeroShotAccuracy',
           'ZeroShotClassifierHook', 'build_zero_shot_weights',
           'KNNBankTooLarge', 'knn_accuracy', 'knn_scores',
           'MaskedLMMetric']
