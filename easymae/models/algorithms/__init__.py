from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .mae import MAE
from .mae_distill import MAEAttentionDistill
from .simmim import SimMIM

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm', 'MAE',
           'MAEAttentionDistill', 'SimMIM']
