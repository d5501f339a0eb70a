from .mae_decoder import MAEDecoder
from .simmim_decoder import SimMIMDecoder

__all__ = ['MAEDecoder', 'SimMIMDecoder']
