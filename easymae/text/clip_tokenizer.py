"""CLIP's byte-pair-encoding tokenizer.

The tokenizer is open_clip's ``SimpleTokenizer``, whose 49,408-token
vocabulary (``bpe_simple_vocab_16e6.txt.gz``) ships inside the open_clip
package: no network, and the same ids as OpenAI's CLIP and OpenCLIP.
A caption becomes ``[<start_of_text>, tokens..., <end_of_text>, 0, ...]``
of ``context_length``; a longer one is cut and still ends with
``<end_of_text>`` (which the text encoder pools at).
"""
from functools import lru_cache
from typing import Optional, Sequence, Union

import torch

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


