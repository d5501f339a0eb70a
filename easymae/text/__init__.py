"""Text shared by data pipelines and evaluation: tokenizers and prompt
templates. Imports nothing of easymae above the registry."""
from .clip_tokenizer import (REDUCTIONS, decode_tokens, get_clip_tokenizer,
                             normalize_caption)
from .prompt_templates import TEMPLATES, get_templates

__all__ = ['REDUCTIONS', 'decode_tokens', 'get_clip_tokenizer',
           'normalize_caption', 'TEMPLATES', 'get_templates']
