from .mae_head import MAEPretrainHead

__all__ = ['MAEPretrainHead']
