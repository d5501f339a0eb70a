from .base import IMAGENET_MEAN, IMAGENET_STD, BaseAlgorithm
from .bert import BERT
from .classifier import ImageClassifier
from .dino import DINO
from .flip import FLIP
from .mae import MAE
from .mae_distill import MAEAttentionDistill
from .mocov3 import MoCoV3
from .simmim import SimMIM
from .text_classifier import TextClassifier
from .vit_bert import ViTBERT
from .vit_bert_mae import ViTBERTMAE

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'BaseAlgorithm',
           'ImageClassifier', 'DINO', 'FLIP', 'MAE', 'MAEAttentionDistill',
           'MoCoV3', 'SimMIM', 'BERT', 'TextClassifier', 'ViTBERT',
           'ViTBERTMAE']
