"""CLIP's byte-pair-encoding tokenizer as a pipeline step (the tokenizer
itself is :mod:`easymae.text.clip_tokenizer`, shared with evaluation)."""
from typing import List, Optional, Union

import torch

from easymae.registry import TRANSFORMS
from easymae.text.clip_tokenizer import REDUCTIONS, get_clip_tokenizer


@TRANSFORMS.register_module()
class Tokenize:
    """``results[key]`` (str) -> ``results[out_key]`` (LongTensor of
    ``context_length`` ids).

    Args:
        context_length: tokens per caption, start and end included; CLIP
            uses 77, the FLIP repository 32.
        reduction: None truncates a long caption; 'simple' (a random
            contiguous block), 'random' (random tokens, order kept) or
            'shuffle' shorten it as in FLIP's text-reduction ablation.
    """

    def __init__(self, context_length: int = 77,
                 reduction: Optional[str] = None, key: str = 'caption',
                 out_key: str = 'text'):
        if not isinstance(context_length, int) or context_length < 3:
            raise ValueError(
                'Tokenize: context_length must be an int >= 3 (start, one '
                f'token, end), got {context_length!r}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'Tokenize: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}')
        self.context_length = context_length
        self.reduction = reduction
        self.key, self.out_key = key, out_key

    @property
    def tokenizer(self):
        return get_clip_tokenizer(self.context_length, self.reduction)

    def tokenize(self, texts: Union[str, List[str]]) -> torch.Tensor:
        """(N, context_length) ids for a list of strings."""
        return self.tokenizer([texts] if isinstance(texts, str) else texts)

    def __call__(self, results: dict) -> dict:
        text = results.get(self.key)
        if not isinstance(text, str):
            raise ValueError(f'Tokenize: results[{self.key!r}] must be a '
                             f'string, got {type(text).__name__}; put '
                             'SampleCaption before Tokenize')
        results[self.out_key] = self.tokenize(text)[0]
        return results

    def __repr__(self):
        return (f'Tokenize(context_length={self.context_length}, '
                f'reduction={self.reduction!r})')
