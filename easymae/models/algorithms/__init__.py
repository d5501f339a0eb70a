from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .classifier import ImageClassifier
from .mae import MAE

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm',
           'ImageClassifier', 'MAE']
