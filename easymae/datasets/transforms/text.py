"""BERT inputs from text: WordPiece ids, segment ids, attention mask.

``TokenizeText`` turns ``text`` (and ``text_pair``) into fixed-length
``[CLS] A [SEP] (B [SEP]) [PAD]...`` ids, or wraps ids a source has already
tokenised (``tokens``, and ``tokens_pair`` for a sentence pair, from a
packed ``LineCorpus``). ``PackTextInputs``
puts the ids in ``inputs`` and the masks and labels in ``data_samples``,
the same shape of batch the image pipelines make.
"""
from typing import Optional

import torch

from easymae.registry import TRANSFORMS
from easymae.text.wordpiece import get_wordpiece


@TRANSFORMS.register_module()
class TokenizeText:
    """Args:
        vocab_file: the tokenizer (``tools/build_vocab.py`` output or a BERT
            ``vocab.txt``).
        max_length: tokens per sequence, special tokens included; must not
            exceed the model's position table.
        key, pair_key: the text fields (pair_key None: single sentences).
        truncation: cut a long text (the longer part of a pair first);
            False makes a long text an error naming its line.
        lowercase: for a ``vocab.txt`` only (a ``.json`` says itself).
    """

    def __init__(self, vocab_file: str, max_length: int = 128,
                 key: str = 'text', pair_key: Optional[str] = None,
                 truncation: bool = True, lowercase: bool = True):
        if not isinstance(max_length, int) or max_length < 3:
            raise ValueError(f'TokenizeText: max_length must be an int >= 3 '
                             f'([CLS], a token, [SEP]), got {max_length!r}')
        self.vocab_file = vocab_file
        self.max_length = max_length
        self.key, self.pair_key = key, pair_key
        self.truncation = truncation
        self.lowercase = lowercase
        # a missing or bad file fails when the pipeline is built
        self.tokenizer

    @property
    def tokenizer(self):
        return get_wordpiece(self.vocab_file, self.lowercase)

    def __call__(self, results: dict) -> dict:
        tok = self.tokenizer
        where = results.get('where', f'sample {results.get("sample_idx")}')
        if 'tokens' in results:
            ids_a = [int(i) for i in results['tokens']]
        else:
            text = results.get(self.key)
            if not isinstance(text, str):
                raise ValueError(f'TokenizeText: {where}: '
                                 f'results[{self.key!r}] must be a string, '
                                 'got '
                                 f'{type(text).__name__}')
            ids_a = tok.encode_ids(text)
        ids_b = None
        if 'tokens_pair' in results:
            ids_b = [int(i) for i in results['tokens_pair']]
        elif self.pair_key is not None:
            pair = results.get(self.pair_key)
            if not isinstance(pair, str):
                raise ValueError(f'TokenizeText: {where}: '
                                 f'results[{self.pair_key!r}] must be a '
                                 f'string, got {type(pair).__name__}')
            ids_b = tok.encode_ids(pair)
        enc = tok.build_inputs(ids_a, ids_b, self.max_length,
                               self.truncation, where=where)
        for name, values in enc.items():
            results[name] = torch.tensor(values, dtype=torch.long)
        return results

    def __repr__(self):
        return (f'TokenizeText(vocab_file={self.vocab_file!r}, max_length='
                f'{self.max_length}, pair_key={self.pair_key!r})')


@TRANSFORMS.register_module()
class PackTextInputs:
    """``input_ids`` -> ``inputs``; ``meta_keys`` that the sample has ->
    ``data_samples`` (attention mask, segment ids, labels)."""

    def __init__(self, meta_keys=('attention_mask', 'token_type_ids',
                                  'gt_label', 'next_sentence_label',
                                  'sample_idx')):
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results: dict) -> dict:
        if 'input_ids' not in results:
            raise ValueError('PackTextInputs: no input_ids; put TokenizeText '
                             'before PackTextInputs')
        data_samples = {k: results[k] for k in self.meta_keys if k in results}
        return dict(inputs=results['input_ids'], data_samples=data_samples)

    def __repr__(self):
        return f'PackTextInputs(meta_keys={self.meta_keys})'
