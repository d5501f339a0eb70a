from .cls_head import LinearClsHead
from .mae_head import MAEPretrainHead
from .simmim_head import SimMIMHead

__all__ = ['LinearClsHead', 'MAEPretrainHead', 'SimMIMHead']
