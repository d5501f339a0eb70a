"""Prompt templates that turn a class name into a caption.

Zero-shot classification embeds every class as the average of its
templates' text embeddings (CLIP's prompt ensembling); ``ClassCaptions``
uses the same templates to make training captions from labels.
"""
from typing import Sequence, Union

TEMPLATES = {
    # the plain prompt
    'simple': ('a photo of a {}.',),
    # small, low-resolution photographs such as CIFAR's 32x32 images
    'cifar': (
        'a photo of a {}.',
        'a blurry photo of a {}.',
        'a low resolution photo of a {}.',
        'a pixelated photo of the {}.',
        'a photo of the small {}.',
        'a close-up photo of a {}.',
        'a bright photo of the {}.',
        'a dark photo of a {}.',
        'a jpeg photo of a {}.',
        'a cropped photo of the {}.',
    ),
    # a short ensemble for ImageNet-like photographs
    'imagenet': (
        'a photo of a {}.',
        'a bad photo of the {}.',
        'a photo of the large {}.',
        'a photo of the small {}.',
        'art of the {}.',
        'a rendering of a {}.',
        'a {} in a video game.',
    ),
    # handwritten digits (scikit-learn's Digits)
    'digits': (
        'a photo of the number {}.',
        'a handwritten digit {}.',
        'a blurry scan of the digit {}.',
    ),
}


def get_templates(templates: Union[str, Sequence[str]]) -> tuple:
    """A template set by name, or a checked list of templates."""
    if isinstance(templates, str):
        if templates not in TEMPLATES:
            raise KeyError(f'unknown prompt template set {templates!r}; '
                           f'choose from {sorted(TEMPLATES)} or pass a list')
        return TEMPLATES[templates]
    templates = tuple(templates)
    if not templates:
        raise ValueError('prompt templates: the list is empty')
    for t in templates:
        if not isinstance(t, str) or t.count('{}') != 1:
            raise ValueError(f'prompt template {t!r} must be a string with '
                             'exactly one {} for the class name')
    return templates
