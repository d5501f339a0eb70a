from .cls_head import LinearClsHead
from .dino_head import DINOHead
from .mae_head import MAEPretrainHead
from .mlm_head import MaskedLMHead, NextSentenceHead
from .mlp_cls_head import MLPClsHead
from .simmim_head import SimMIMHead

__all__ = ['DINOHead', 'LinearClsHead', 'MAEPretrainHead', 'SimMIMHead',
           'MaskedLMHead', 'NextSentenceHead', 'MLPClsHead']
