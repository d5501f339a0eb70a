from .cls_head import LinearClsHead
from .mae_head import MAEPretrainHead

__all__ = ['LinearClsHead', 'MAEPretrainHead']
