"""Sentence pairs for BERT's next-sentence prediction, built the way the
reference ``create_pretraining_data.py`` builds its instances.

Sentences of a document are gathered into a chunk until it holds
``budget`` tokens (or the document ends). The chunk is cut at a random
sentence boundary: its first part is segment A. With probability 1/2 (and
always when the chunk is one sentence) segment B is a run of sentences
from a random other document, at a random start, as long as A leaves room
for, and the chunk's unused sentences are put back to start the next
chunk; otherwise B is the rest of the chunk. The pair is then cut to
``budget`` tokens, one token at a time from the longer segment, at its
front or back at random.

Labels follow BERT's (and HF ``BertForPreTraining``'s): 0 when B is the
text that follows A, 1 when B is random.
"""
import random
from typing import List, NamedTuple, Sequence

IS_NEXT, RANDOM_NEXT = 0, 1


class SentencePair(NamedTuple):
    tokens_a: List[int]
    tokens_b: List[int]
    label: int          # IS_NEXT or RANDOM_NEXT
    document: int       # index of A's document
    first_sentence: int  # index of A's first sentence in it


def _truncate_pair(a: List[int], b: List[int], budget: int,
                   rng: random.Random) -> None:
    while len(a) + len(b) > budget:
        longer = a if len(a) > len(b) else b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def _random_segment(documents, exclude: int, length: int,
                    rng: random.Random) -> List[int]:
    other = exclude
    for _ in range(10):  # the reference's ten tries
        other = rng.randint(0, len(documents) - 1)
        if other != exclude:
            break
    if other == exclude:
        other = (exclude + 1) % len(documents)
    sentences = documents[other]
    tokens: List[int] = []
    for sentence in sentences[rng.randint(0, len(sentences) - 1):]:
        tokens.extend(sentence)
        if len(tokens) >= length:
            break
    return tokens


def next_sentence_pairs(documents: Sequence[Sequence[Sequence[int]]],
                        budget: int, rng: random.Random
                        ) -> List[SentencePair]:
    """Pairs from ``documents`` (each a list of sentences, each a list of
    token ids); ``budget`` = sequence length - 3 ([CLS], 2 x [SEP])."""
    documents = [[list(s) for s in doc if len(s)] for doc in documents]
    documents = [doc for doc in documents if doc]
    if len(documents) < 2:
        raise ValueError('next-sentence pairs need at least 2 documents '
                         '(the random segment comes from another one), got '
                         f'{len(documents)}')
    if budget < 2:
        raise ValueError(f'next-sentence pairs need room for 2 tokens, '
                         f'got a budget of {budget}')
    pairs = []
    for d, sentences in enumerate(documents):
        chunk: List[List[int]] = []
        length, start, i = 0, 0, 0
        while i < len(sentences):
            chunk.append(sentences[i])
            length += len(sentences[i])
            if i == len(sentences) - 1 or length >= budget:
                a_end = rng.randint(1, len(chunk) - 1) \
                    if len(chunk) >= 2 else 1
                tokens_a = [t for s in chunk[:a_end] for t in s]
                if len(chunk) == 1 or rng.random() < 0.5:
                    label = RANDOM_NEXT
                    tokens_b = _random_segment(
                        documents, d, max(1, budget - len(tokens_a)), rng)
                    i -= len(chunk) - a_end  # unused sentences go back
                else:
                    label = IS_NEXT
                    tokens_b = [t for s in chunk[a_end:] for t in s]
                _truncate_pair(tokens_a, tokens_b, budget, rng)
                if tokens_a and tokens_b:
                    pairs.append(SentencePair(tokens_a, tokens_b, label, d,
                                              start))
                chunk, length, start = [], 0, i + 1
            i += 1
    return pairs
