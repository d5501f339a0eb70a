"""Text shared by data pipelines and evaluation: tokenizers and prompt
templates. Imports nothing of easymae above the registry."""
from .clip_tokenizer import (
                             REDUCTIONS,
                             decode_tokens,
                             get_clip_tokenizer,
                             normalize_caption,
)
from .corpus import CorpusError, read_documents
from .prompt_templates import TEMPLATES, get_templates
from .wordpiece import (
                             SPECIAL_TOKENS,
                             VocabularyError,
                             WordPieceTokenizer,
                             get_wordpiece,
                             train_wordpiece,
)

__all__ = ['REDUCTIONS', 'decode_tokens', 'get_clip_tokenizer',
           'normalize_caption', 'TEMPLATES', 'get_templates', 'CorpusError',
           'read_documents', 'SPECIAL_TOKENS', 'VocabularyError',
           'WordPieceTokenizer', 'get_wordpiece', 'train_wordpiece']
