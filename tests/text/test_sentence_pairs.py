"""Next-sentence pairs: B follows A in A's document, or is a run of
sentences of one other document; lengths fit; both labels occur."""
import random

import pytest

from easymae.text.sentence_pairs import (
    IS_NEXT,
    RANDOM_NEXT,
    next_sentence_pairs,
)


def _documents(num_docs=8, seed=0):
    """Documents of sentences whose token ids say where they are: token
    ``d * 10_000 + position`` is the ``position``-th token of document d."""
    rng = random.Random(seed)
    docs = []
    for d in range(num_docs):
        sentences, position = [], 0
        for _ in range(rng.randint(3, 12)):
            n = rng.randint(2, 9)
            sentences.append([d * 10_000 + position + k for k in range(n)])
            position += n
        docs.append(sentences)
    return docs


def test_pairs_are_true_continuations_or_from_another_document():
    docs = _documents()
    budget = 20
    pairs = next_sentence_pairs(docs, budget, random.Random(0))
    labels = [p.label for p in pairs]
    assert set(labels) == {IS_NEXT, RANDOM_NEXT}
    # a one-sentence chunk always takes a random B: more than half random
    assert 0.2 <= labels.count(IS_NEXT) / len(labels) <= 0.6
    for p in pairs:
        assert p.tokens_a and p.tokens_b
        assert len(p.tokens_a) + len(p.tokens_b) <= budget
        a_docs = {t // 10_000 for t in p.tokens_a}
        b_docs = {t // 10_000 for t in p.tokens_b}
        assert a_docs == {p.document}
        # A is in order, gaps only where truncation cut a token off
        assert p.tokens_a == sorted(p.tokens_a)
        assert docs[p.document][p.first_sentence][0] <= p.tokens_a[0]
        if p.label == IS_NEXT:
            assert b_docs == {p.document}
            assert max(p.tokens_a) < min(p.tokens_b)
        else:
            assert len(b_docs) == 1 and b_docs != a_docs


def test_every_sentence_starts_in_some_chunk_and_the_draw_is_seeded():
    docs = _documents()
    pairs = next_sentence_pairs(docs, 20, random.Random(1))
    again = next_sentence_pairs(docs, 20, random.Random(1))
    assert pairs == again
    assert pairs != next_sentence_pairs(docs, 20, random.Random(2))
    # A's of a document start at increasing sentences: chunks move forward
    for d in range(len(docs)):
        firsts = [p.first_sentence for p in pairs if p.document == d]
        assert firsts == sorted(set(firsts)) and firsts[0] == 0


def test_one_document_or_no_room_is_named():
    with pytest.raises(ValueError, match='at least 2 documents'):
        next_sentence_pairs(_documents(1), 20, random.Random(0))
    with pytest.raises(ValueError, match='room for 2 tokens'):
        next_sentence_pairs(_documents(), 1, random.Random(0))
