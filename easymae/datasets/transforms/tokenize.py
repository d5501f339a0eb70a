"""CLIP's byte-pair-encoding tokenizer as a pipeline step.

The tokenizer is open_clip's ``SimpleTokenizer``, whose 49,408-token
vocabulary (``bpe_simple_vocab_16e6.txt.gz``) ships inside the open_clip
package: no network, and the same ids as OpenAI's CLIP and OpenCLIP.
A caption becomes ``[<start_of_text>, tokens..., <end_of_text>, 0, ...]``
of ``context_length``; a longer one is cut and still ends with
``<end_of_text>`` (which the text encoder pools at).
"""
from functools import lru_cache
from typing import List, Optional, Sequence, Union

import torch

from easymae.registry import TRANSFORMS

# open_clip's strategies for shortening a caption to fit the context; FLIP's
# text length-reduction ablation. None = plain truncation.
REDUCTIONS = (None, 'simple', 'random', 'shuffle')


@lru_cache(maxsize=None)
def get_clip_tokenizer(context_length: int = 77,
                       reduction: Optional[str] = None):
    """One tokenizer per setting and process (reading the BPE merges takes
    a moment, so pipelines share it)."""
    from open_clip.tokenizer import SimpleTokenizer
    return SimpleTokenizer(context_length=context_length,
                           reduction_mask=reduction or '')


def normalize_caption(text: str) -> str:
    """The text as the tokenizer sees it: html/unicode fixed, whitespace
    collapsed, lower case."""
    from open_clip.tokenizer import get_clean_fn
    return get_clean_fn('lower')(text)


def decode_tokens(tokens: Union[torch.Tensor, Sequence[int]]) -> str:
    """Token ids -> text, without start/end/padding tokens."""
    tok = get_clip_tokenizer()
    ids = [int(t) for t in tokens]
    if tok.eot_token_id in ids:
        ids = ids[:ids.index(tok.eot_token_id)]
    ids = [i for i in ids if i != tok.sot_token_id]
    return tok.decode(ids).strip()


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
            raise ValueError(f'Tokenize: context_length must be an int >= 3 '
                             f'(start, one token, end), got {context_length!r}')
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
