"""Analysis of trained ViTs: attention statistics and layer similarity."""
from .attention_stats import attention_distance_and_entropy
from .cka import layer_features, linear_cka
from .loading import (
    ENCODERS,
    encoder_of,
    load_image_files,
    load_images,
    load_model_from_checkpoint,
)

__all__ = ['ENCODERS', 'attention_distance_and_entropy', 'encoder_of',
           'layer_features', 'linear_cka', 'load_image_files', 'load_images',
           'load_model_from_checkpoint']
