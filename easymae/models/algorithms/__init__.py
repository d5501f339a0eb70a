from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .classifier import ImageClassifier
from .flip import FLIP
from .mae import MAE
from .mae_distill import MAEAttentionDistill
from .simmim import SimMIM

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm',
           'ImageClassifier', 'FLIP', 'MAE', 'MAEAttentionDistill', 'SimMIM']
