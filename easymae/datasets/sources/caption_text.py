"""Captions of an image-text source as plain text (for MLM on captions).

Every caption of every image becomes one sample ``dict(text=...)``;
``TokenizeText`` then treats it like a corpus paragraph. The image is not
read.
"""
from typing import Union

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource


@DATA_SOURCES.register_module()
class CaptionText(BaseDataSource):
    """Args:
        source: an ``ImageText`` config (or any source whose samples carry
            ``captions``).
    """

    def __init__(self, source: Union[dict, BaseDataSource]):
        super().__init__()
        if isinstance(source, dict):
            source = DATA_SOURCES.build(source)
        self.source = source
        for i in range(len(source)):
            item = source[i]
            captions = item.get('captions')
            if not captions:
                raise ValueError(f'CaptionText: sample {i} of '
                                 f'{type(source).__name__} has no captions')
            for caption in captions:
                self.samples.append(dict(
                    text=caption, where=item.get('img_path', str(i)),
                    sample_idx=len(self.samples)))
        self._check_not_empty(type(source).__name__)
