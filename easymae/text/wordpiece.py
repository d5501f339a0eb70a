"""BERT's WordPiece tokenizer: trained from a corpus, saved as one file.

The tokenizer is HF ``tokenizers``' WordPiece model behind BERT's
normaliser (clean control characters, split CJK characters, lower case and
strip accents for an uncased vocabulary) and pre-tokeniser (whitespace and
punctuation). The whole pipeline and the vocabulary are saved as one
``tokenizer.json``-style file (``tools/build_vocab.py --out vocab.json``);
a released BERT ``vocab.txt`` (one token a line) loads too.

Inputs follow BERT: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]`` with
segment ids 0 for the first part (its [SEP] included) and 1 for the second,
then ``[PAD]`` up to the length with an attention mask of 0 there. A pair
too long is cut from the end of the longer part first (BERT's
``_truncate_seq_pair``).
"""
import hashlib
import os
import os.path as osp
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence

from easymae.fileio.atomic import atomic_write_bytes

PAD, UNK, CLS, SEP, MASK = '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'
# a trained vocabulary puts them first, in this order: [PAD] is id 0
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)


class VocabularyError(ValueError):
    """A vocabulary file that cannot serve as BERT's tokenizer."""


def _pipeline(model, lowercase: bool):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    tok = Tokenizer(model)
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None,
        lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix='##')
    return tok


def train_wordpiece(texts: Iterable[str], vocab_size: int,
                    min_frequency: int = 2, lowercase: bool = True,
                    limit_alphabet: int = 1000) -> 'WordPieceTokenizer':
    """A WordPiece vocabulary of at most ``vocab_size`` tokens (the five
    special tokens first) learned from ``texts``."""
    from tokenizers import models, trainers
    if vocab_size <= len(SPECIAL_TOKENS):
        raise VocabularyError(f'vocab_size must exceed the '
                              f'{len(SPECIAL_TOKENS)} special tokens, got '
                              f'{vocab_size}')
    tok = _pipeline(models.WordPiece(unk_token=UNK), lowercase)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS), limit_alphabet=limit_alphabet,
        continuing_subword_prefix='##', show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return WordPieceTokenizer(tok, source='(trained)')


class WordPieceTokenizer:
    """Text <-> ids with BERT's special tokens.

    Args:
        tokenizer: a ``tokenizers.Tokenizer`` with a WordPiece model.
        source: where it came from, for error messages.
    """

    def __init__(self, tokenizer, source: str = '(memory)'):
        self.source = source
        vocab = tokenizer.get_vocab(with_added_tokens=True)
        missing = [t for t in SPECIAL_TOKENS if t not in vocab]
        if missing:
            raise VocabularyError(
                f'{source}: vocabulary lacks the special token(s) '
                f'{missing}; BERT needs {list(SPECIAL_TOKENS)}')
        # matched whole in text (a literal "[UNK]" or "[MASK]" is one token)
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        self._tok = tokenizer
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            vocab[t] for t in SPECIAL_TOKENS)
        self.special_ids = tuple(vocab[t] for t in SPECIAL_TOKENS)
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)

    # ------------------------------------------------------------ files
    @classmethod
    def from_file(cls, path: str, lowercase: bool = True
                  ) -> 'WordPieceTokenizer':
        """A saved tokenizer (``.json``) or a BERT ``vocab.txt``."""
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'vocabulary file {path!r} not found; build one with '
                'tools/build_vocab.py CORPUS... --out PATH')
        from tokenizers import Tokenizer, models
        try:
            if path.endswith('.txt'):
                with open(path, encoding='utf-8') as f:
                    vocab = {}
                    for line in f:
                        vocab.setdefault(line.rstrip('\r\n'), len(vocab))
                tok = _pipeline(models.WordPiece(vocab, unk_token=UNK),
                                lowercase)
            else:
                tok = Tokenizer.from_file(path)
        except UnicodeDecodeError as e:
            raise VocabularyError(f'{path}: not UTF-8 text ({e})') from None
        except Exception as e:  # tokenizers raises bare Exceptions
            raise VocabularyError(f'{path}: not a tokenizer file ({e})') \
                from None
        if type(tok.model).__name__ != 'WordPiece':
            raise VocabularyError(f'{path}: a {type(tok.model).__name__} '
                                  'tokenizer, not WordPiece')
        return cls(tok, source=path)

    def save(self, path: str) -> None:
        folder = osp.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        atomic_write_bytes(self._tok.to_str(pretty=True).encode('utf-8'),
                           path)

    # --------------------------------------------------------- encoding
    def tokenize(self, text: str) -> List[str]:
        return self._tok.encode(text, add_special_tokens=False).tokens

    def encode_ids(self, text: str) -> List[int]:
        """Token ids of ``text``, no special tokens added."""
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch_ids(self, texts: Sequence[str]) -> List[List[int]]:
        return [e.ids for e in self._tok.encode_batch(
            list(texts), add_special_tokens=False)]

    def build_inputs(self, ids_a: Sequence[int],
                     ids_b: Optional[Sequence[int]] = None,
                     max_length: int = 128, truncation: bool = True,
                     padding: bool = True, where: str = 'text'
                     ) -> Dict[str, List[int]]:
        """``[CLS] A [SEP] (B [SEP])`` cut to ``max_length`` and padded to
        it: ``input_ids``, ``token_type_ids``, ``attention_mask``."""
        ids_a, ids_b = list(ids_a), (None if ids_b is None else list(ids_b))
        room = max_length - (3 if ids_b is not None else 2)
        if room < 1:
            raise ValueError(f'max_length {max_length} leaves no room for '
                             'text beside [CLS] and [SEP]')
        total = len(ids_a) + len(ids_b or ())
        if total > room:
            if not truncation:
                raise ValueError(
                    f'{where}: {total} tokens plus special tokens exceed '
                    f'max_length {max_length} (truncation is off)')
            while len(ids_a) + len(ids_b or ()) > room:
                if ids_b is not None and len(ids_b) > len(ids_a):
                    ids_b.pop()
                else:
                    ids_a.pop()
        input_ids = [self.cls_id] + ids_a + [self.sep_id]
        types = [0] * len(input_ids)
        if ids_b is not None:
            input_ids += ids_b + [self.sep_id]
            types += [1] * (len(ids_b) + 1)
        mask = [1] * len(input_ids)
        if padding:
            pad = max_length - len(input_ids)
            input_ids += [self.pad_id] * pad
            types += [0] * pad
            mask += [0] * pad
        return dict(input_ids=input_ids, token_type_ids=types,
                    attention_mask=mask)

    def encode(self, text: str, pair: Optional[str] = None,
               max_length: int = 128, truncation: bool = True,
               padding: bool = True) -> Dict[str, List[int]]:
        return self.build_inputs(
            self.encode_ids(text),
            None if pair is None else self.encode_ids(pair), max_length,
            truncation, padding)

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        return self._tok.decode([int(i) for i in ids],
                                skip_special_tokens=skip_special)

    def id_to_token(self, i: int) -> Optional[str]:
        return self._tok.id_to_token(int(i))

    def token_to_id(self, token: str) -> Optional[int]:
        return self._tok.token_to_id(token)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self):
        return (f'WordPieceTokenizer({self.source!r}, vocab_size='
                f'{self.vocab_size})')


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float, lowercase: bool) -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(path, lowercase)


def get_wordpiece(path: str, lowercase: bool = True) -> WordPieceTokenizer:
    """One tokenizer per file and process (pipelines share it); a file
    rewritten since is read again."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'vocabulary file {path!r} not found; build one with '
            'tools/build_vocab.py CORPUS... --out PATH')
    real = osp.realpath(path)
    return _cached(real, osp.getmtime(real), lowercase)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()
