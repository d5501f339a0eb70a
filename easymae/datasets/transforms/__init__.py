from .formatting import PackInputs
from .loading import BadImageError, LoadImage, read_image
from .processing import (CenterCrop, RandomHorizontalFlip, RandomResizedCrop,
                         Resize)

__all__ = ['PackInputs', 'BadImageError', 'LoadImage', 'read_image',
           'CenterCrop', 'RandomHorizontalFlip', 'RandomResizedCrop',
           'Resize']
