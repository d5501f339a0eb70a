from .mae_decoder import MAEDecoder

__all__ = ['MAEDecoder']
