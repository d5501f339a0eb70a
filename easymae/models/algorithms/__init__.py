from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .flip import FLIP
from .mae import MAE

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm', 'MAE', 'FLIP']
