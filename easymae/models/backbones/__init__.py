from .bert_encoder import BertEncoder
from .text_embedding import TextEmbedding
from .text_transformer import TextTransformer
from .vision_transformer import ARCHS, VisionTransformer

__all__ = ['ARCHS', 'VisionTransformer', 'TextTransformer', 'BertEncoder',
           'TextEmbedding']
