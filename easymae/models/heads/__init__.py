from .mae_head import MAEPretrainHead
from .simmim_head import SimMIMHead

__all__ = ['MAEPretrainHead', 'SimMIMHead']
