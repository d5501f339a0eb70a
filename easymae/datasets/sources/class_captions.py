"""Captions made from class names, for contrastive training on a
classification data set (CIFAR-10 with "a photo of a cat." and friends).

Wraps any classification data source: every sample gets ``captions`` =
each template filled with its class name, and ``SampleCaption`` then picks
one per step, just as for real image-text pairs.
"""
from typing import Optional, Sequence, Union

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource


@DATA_SOURCES.register_module()
class ClassCaptions(BaseDataSource):
    """Args:
        data_source: config (or instance) of a labelled data source.
        templates: strings with one ``{}`` for the class name, or the name
            of a template set in ``easymae.text.prompt_templates``.
        class_names: readable names to use instead of the source's
            ``classes`` (e.g. 'automobile' -> 'car'); same order and length.
    """

    def __init__(self, data_source, templates: Union[str, Sequence[str]],
                 class_names: Optional[Sequence[str]] = None):
        from easymae.text.prompt_templates import get_templates
        self.source = (DATA_SOURCES.build(data_source)
                       if isinstance(data_source, dict) else data_source)
        classes = self.source.classes
        if class_names is not None:
            if classes is not None and len(class_names) != len(classes):
                raise ValueError(f'ClassCaptions: {len(class_names)} '
                                 f'class_names for {len(classes)} classes')
            classes = list(class_names)
        if not classes:
            raise ValueError(f'ClassCaptions: {type(self.source).__name__} '
                             'has no class names; pass class_names=')
        super().__init__(classes)
        self.templates = get_templates(templates)
        self._captions = [[t.format(c) for t in self.templates]
                          for c in classes]

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, idx: int) -> dict:
        sample = self.source[idx]
        label = sample.get('gt_label', -1)
        if not 0 <= label < len(self._captions):
            raise ValueError(f'ClassCaptions: sample {idx} has label {label}'
                             f', outside the {len(self._captions)} classes')
        sample['captions'] = list(self._captions[label])
        return sample
