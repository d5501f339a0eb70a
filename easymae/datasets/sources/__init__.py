from .base import BaseDataSource
from .caption_text import CaptionText
from .cifar import CIFAR10, CIFAR100
from .class_captions import ClassCaptions
from .digits import Digits
from .image_folder import ImageFolder
from .image_list import ImageList
from .image_text import ImageText
from .line_corpus import LineCorpus
from .text_classification import TextClassification

__all__ = ['BaseDataSource', 'CIFAR10', 'CIFAR100', 'Digits', 'ImageFolder',
           'ImageList', 'ClassCaptions', 'ImageText', 'CaptionText',
           'LineCorpus', 'TextClassification']
