from .batchnorm_neck import BatchNormNeck
from .mae_decoder import MAEDecoder

__all__ = ['BatchNormNeck', 'MAEDecoder']
