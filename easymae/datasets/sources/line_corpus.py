"""Unlabelled text for masked language modelling: one paragraph a line.

Without packing a sample is one paragraph (``dict(text=...)``), cut to the
model's length by ``TokenizeText``. With ``pack_tokens=L`` the source
tokenises the corpus once and packs consecutive sentences of a document
into blocks of at most ``L - 2`` tokens (room for [CLS] and [SEP]), as
BERT's ``create_pretraining_data.py`` fills its sequences: a block never
crosses a document boundary, and a sentence longer than a block is split.
Samples are then ``dict(tokens=int32 array)``, which ``TokenizeText``
wraps without tokenising again.

With ``nsp=True`` (and packing) a sample is a pair of segments for BERT's
next-sentence prediction, ``dict(tokens=A, tokens_pair=B,
next_sentence_label=0 or 1)``, drawn once as the reference draws its
instances (``easymae.text.sentence_pairs``; ``nsp_seed`` fixes the draw).

A slice is held out for evaluation by documents (the last ``holdout``
share of them), so no paragraph of a held-out article leaks into training.
"""
import os.path as osp
import random
from typing import List, Optional, Sequence, Union

import numpy as np

from easymae.registry import DATA_SOURCES
from easymae.text.corpus import read_documents, split_sentences
from easymae.text.sentence_pairs import next_sentence_pairs
from easymae.text.wordpiece import get_wordpiece
from .base import BaseDataSource

SPLITS = ('train', 'holdout', 'all')


def resolve_ann_file(path: str, data_root: str, what: str) -> str:
    """``path`` as given when it exists, else under ``data_root``."""
    if not osp.isabs(path) and not osp.exists(path) and data_root:
        path = osp.join(data_root, path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file {path!r} not found')
    return path


@DATA_SOURCES.register_module()
class LineCorpus(BaseDataSource):
    """Args:
        files: one or more UTF-8 text files (absolute, or relative to
            ``data_root``).
        data_root: folder the files are relative to.
        skip_headings: drop WikiText ``= heading =`` lines (a title starts
            a new document); False reads every line as a document.
        unk_marker: the corpus's unknown-word marker, read as [UNK]
            (WikiText: ``'<unk>'``).
        pack_tokens: pack sentences into blocks for sequences of this
            length (special tokens included); None: a sample a paragraph.
        vocab_file: the tokenizer, needed for packing.
        holdout: share of documents (the last ones) kept for evaluation.
        split: 'train' (all but the held-out slice), 'holdout' or 'all'.
        nsp: sentence pairs with next-sentence labels instead of blocks
            (needs ``pack_tokens``: the pair's length, special tokens
            included).
        nsp_seed: the seed of the pairs' random draw.
    """

    def __init__(self, files: Union[str, Sequence[str]], data_root: str = '',
                 skip_headings: bool = True,
                 unk_marker: Optional[str] = None,
                 pack_tokens: Optional[int] = None,
                 vocab_file: Optional[str] = None, holdout: float = 0.0,
                 split: str = 'train', nsp: bool = False,
                 nsp_seed: int = 0):
        super().__init__()
        if split not in SPLITS:
            raise ValueError(f'LineCorpus: split must be one of {SPLITS}, '
                             f'got {split!r}')
        if not 0.0 <= holdout < 1.0:
            raise ValueError(f'LineCorpus: holdout must be in [0, 1), got '
                             f'{holdout}')
        if split == 'holdout' and holdout == 0:
            raise ValueError("LineCorpus: split='holdout' needs holdout > 0")
        if pack_tokens is not None and (pack_tokens < 3 or not vocab_file):
            raise ValueError('LineCorpus: pack_tokens needs a vocab_file and '
                             f'a length >= 3, got {pack_tokens!r} and '
                             f'{vocab_file!r}')
        if nsp and pack_tokens is None:
            raise ValueError('LineCorpus: nsp=True needs pack_tokens (the '
                             'length of a sentence pair) and a vocab_file')
        files = [files] if isinstance(files, str) else list(files)
        self.files = [resolve_ann_file(f, data_root, 'LineCorpus: corpus')
                      for f in files]
        docs = read_documents(self.files, skip_headings, unk_marker)
        num_held = int(round(len(docs) * holdout))
        if holdout and not 0 < num_held < len(docs):
            raise ValueError(
                f'LineCorpus: holdout={holdout} of {len(docs)} documents '
                f'leaves {num_held} held out; use a larger corpus or share')
        if split == 'train':
            docs = docs[:len(docs) - num_held]
        elif split == 'holdout':
            docs = docs[len(docs) - num_held:]
        self.num_documents = len(docs)
        self.pack_tokens = pack_tokens
        if nsp:
            self._pairs(docs, get_wordpiece(vocab_file), pack_tokens - 3,
                        random.Random(nsp_seed))
        elif pack_tokens is None:
            for doc in docs:
                for text, where in zip(doc.paragraphs, doc.where):
                    self.samples.append(dict(text=text, where=where))
        else:
            self._pack(docs, get_wordpiece(vocab_file), pack_tokens - 2)
        for i, sample in enumerate(self.samples):
            sample['sample_idx'] = i
        self._check_not_empty(', '.join(self.files) + f' (split {split!r})')

    @staticmethod
    def _sentences(doc):
        """A document's sentences and where each comes from."""
        sentences: List[str] = []
        wheres: List[str] = []
        for text, where in zip(doc.paragraphs, doc.where):
            for sentence in split_sentences(text):
                sentences.append(sentence)
                wheres.append(where)
        return sentences, wheres

    def _pairs(self, docs, tokenizer, budget: int, rng) -> None:
        split = [self._sentences(doc) for doc in docs]
        ids = [tokenizer.encode_batch_ids(sentences)
               for sentences, _ in split]
        for pair in next_sentence_pairs(ids, budget, rng):
            self.samples.append(dict(
                tokens=np.asarray(pair.tokens_a, dtype=np.int32),
                tokens_pair=np.asarray(pair.tokens_b, dtype=np.int32),
                next_sentence_label=pair.label,
                where=split[pair.document][1][pair.first_sentence]))

    def _pack(self, docs, tokenizer, budget: int) -> None:
        for doc in docs:
            sentences, wheres = self._sentences(doc)
            block: List[int] = []
            block_where = None

            def emit():
                self.samples.append(dict(
                    tokens=np.asarray(block, dtype=np.int32),
                    where=block_where))

            for ids, where in zip(tokenizer.encode_batch_ids(sentences),
                                  wheres):
                if block and len(block) + len(ids) > budget:
                    emit()
                    block = []
                while len(ids) > budget:  # a sentence longer than a block
                    block, block_where = ids[:budget], where
                    emit()
                    ids = ids[budget:]
                    block = []
                if not block:
                    block_where = where
                block = block + ids
            if block:
                emit()
