from .batchnorm_neck import BatchNormNeck
from .mae_decoder import MAEDecoder
from .projection_mlp import ProjectionMLP
from .simmim_decoder import SimMIMDecoder

__all__ = ['BatchNormNeck', 'MAEDecoder', 'SimMIMDecoder', 'ProjectionMLP']
