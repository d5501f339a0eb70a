from .base import BaseDataSource
from .class_captions import ClassCaptions
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .image_folder import ImageFolder
from .image_list import ImageList
from .image_text import ImageText

__all__ = ['BaseDataSource', 'CIFAR10', 'CIFAR100', 'Digits', 'ImageFolder',
           'ImageList', 'ClassCaptions', 'ImageText']
