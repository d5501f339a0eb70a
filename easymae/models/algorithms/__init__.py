from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .classifier import ImageClassifier
from .mae import MAE
from .mae_distill import MAEAttentionDistill
from .simmim import SimMIM

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm',
           'ImageClassifier', 'MAE', 'MAEAttentionDistill', 'SimMIM']
