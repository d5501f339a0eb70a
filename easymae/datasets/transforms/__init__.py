from .caption import SampleCaption
from .color import ColorJitter, GaussianBlur, RandomGrayscale, Solarize
from .formatting import PackInputs
from .loading import BadImageError, LoadImage, read_image
from .mask_generator import SimMIMMaskGenerator
from .multi_view import MultiView
from .processing import (
                         CenterCrop,
                         RandomHorizontalFlip,
                         RandomResizedCrop,
                         Resize,
)
from .rand_augment import RandAugment
from .random_erasing import RandomErasing
from .text import PackTextInputs, TokenizeText
from .tokenize import Tokenize

__all__ = ['PackInputs', 'BadImageError', 'LoadImage', 'read_image',
           'CenterCrop', 'RandomHorizontalFlip', 'RandomResizedCrop',
           'Resize', 'RandAugment', 'RandomErasing', 'SimMIMMaskGenerator',
           'SampleCaption', 'Tokenize', 'PackTextInputs', 'TokenizeText',
           'ColorJitter', 'GaussianBlur',
           'RandomGrayscale', 'Solarize', 'MultiView']
