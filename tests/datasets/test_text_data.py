"""Text data: the WordPiece tokenizer, the vocabulary tool, the line-corpus
and TSV sources, captions as text, and the tokenising transform, on small
real English text written here (and the shared WikiText-2 / SST-2 files
when the checkout has them)."""
import os.path as osp

import numpy as np
import pytest
import torch

from easymae.datasets.sources import (
    CaptionText,
    LineCorpus,
    TextClassification,
)
from easymae.datasets.transforms import PackTextInputs, TokenizeText
from easymae.text.corpus import CorpusError, read_documents
from easymae.text.wordpiece import (
    SPECIAL_TOKENS,
    WordPieceTokenizer,
    train_wordpiece,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'text')
need_shared = pytest.mark.skipif(
    not osp.isdir(SHARED), reason='shared text data (../shared/data/text) '
    'not beside this checkout')

ARTICLE = """ = Lighthouses =

 A lighthouse is a tower that sends out light to help ships at sea . Its lamp turns slowly through the night . Keepers lived in small houses beside the tower .

 = = History = =

 The first lighthouses were fires burning on hills near harbours . Later towers were built of stone and brick , and their lamps burned oil .

 = Bees =

 Bees collect nectar and pollen from flowers . A hive can hold many thousands of workers . The queen lays the eggs , and the workers feed the young .
"""  # noqa: E501


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp('text') / 'corpus.txt'
    path.write_text(ARTICLE * 3, encoding='utf-8')
    return str(path)


@pytest.fixture(scope='module')
def vocab(corpus, tmp_path_factory):
    tok = train_wordpiece(
        (p for d in read_documents(corpus) for p in d.paragraphs), 200,
        min_frequency=1)
    path = str(tmp_path_factory.mktemp('vocab') / 'vocab.json')
    tok.save(path)
    return path


def test_tokenizer_round_trip_and_special_tokens(vocab):
    tok = WordPieceTokenizer.from_file(vocab)
    assert [tok.id_to_token(i) for i in range(5)] == list(SPECIAL_TOKENS)
    text = 'The queen lays the eggs in the hive.'
    ids = tok.encode_ids(text)
    assert tok.decode(ids) == text.lower()
    # a literal special token is one token, never split into punctuation
    assert tok.tokenize('the [MASK] lays') == ['the', '[MASK]', 'lays']
    enc = tok.encode('bees collect nectar', 'the queen lays eggs',
                     max_length=16)
    ids_a = tok.encode_ids('bees collect nectar')
    ids_b = tok.encode_ids('the queen lays eggs')
    n = len(ids_a) + len(ids_b) + 3
    assert enc['input_ids'][:n] == [tok.cls_id] + ids_a + [tok.sep_id] + \
        ids_b + [tok.sep_id]
    assert enc['token_type_ids'][:n] == [0] * (len(ids_a) + 2) + \
        [1] * (len(ids_b) + 1)
    assert enc['attention_mask'] == [1] * n + [0] * (16 - n)
    assert enc['input_ids'][n:] == [tok.pad_id] * (16 - n)
    # longest first: the longer part of a pair loses its tail
    cut = tok.encode('a', 'the queen lays the eggs and the workers feed',
                     max_length=8)
    assert cut['input_ids'][:3] == [tok.cls_id, tok.encode_ids('a')[0],
                                    tok.sep_id]
    assert cut['input_ids'][-1] == tok.sep_id and sum(
        cut['attention_mask']) == 8
    with pytest.raises(ValueError, match='exceed max_length 8'):
        tok.encode('the queen lays the eggs and the workers feed the young',
                   max_length=8, truncation=False)


def test_build_vocab_tool_and_bad_corpora(tmp_path, corpus, capsys):
    from tools.build_vocab import main
    out = tmp_path / 'v.json'
    assert main([corpus, '--vocab-size', '150', '--min-frequency', '1',
                 '--out', str(out)]) == 0
    assert WordPieceTokenizer.from_file(str(out)).vocab_size <= 150
    bad = tmp_path / 'latin1.txt'
    bad.write_bytes('Bees collect nectar .\nThe caf\xe9 is open .\n'
                    .encode('latin-1'))
    assert main([str(bad), '--vocab-size', '50', '--out',
                 str(tmp_path / 'x.json')]) == 1
    err = capsys.readouterr().err
    # 'Bees collect nectar .\n' is 22 bytes, then 'The caf' is 7 more
    assert str(bad) in err and 'byte offset 29' in err and 'line 2' in err
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n = Title = \n\n', encoding='utf-8')
    assert main([str(empty), '--vocab-size', '50', '--out',
                 str(tmp_path / 'y.json')]) == 1
    assert 'empty corpus' in capsys.readouterr().err
    with pytest.raises(CorpusError, match='empty corpus'):
        LineCorpus(str(empty))


def test_line_corpus_headings_documents_and_holdout(corpus):
    docs = read_documents(corpus)
    # three copies of two articles; the section heading does not split one
    assert len(docs) == 6 and len(docs[0].paragraphs) == 2
    assert all('=' not in p for d in docs for p in d.paragraphs)
    train = LineCorpus(corpus, holdout=1 / 3, split='train')
    held = LineCorpus(corpus, holdout=1 / 3, split='holdout')
    assert (train.num_documents, held.num_documents) == (4, 2)
    assert len(train) + len(held) == len(LineCorpus(corpus, split='all'))
    assert held[0]['text'].startswith('A lighthouse') and \
        held[0]['where'].endswith(':25')  # 11 lines a copy, then 2 more


def test_line_corpus_packs_sentences_into_blocks(corpus, vocab):
    tok = WordPieceTokenizer.from_file(vocab)
    packed = LineCorpus(corpus, pack_tokens=24, vocab_file=vocab,
                        split='all')
    blocks = [s['tokens'] for s in packed.samples]
    assert max(len(b) for b in blocks) <= 22
    # nothing lost or reordered, and blocks hold whole sentences except
    # where a sentence is longer than a block
    expected = [i for d in read_documents(corpus) for p in d.paragraphs
                for i in tok.encode_ids(p)]
    assert np.concatenate(blocks).tolist() == expected
    # two articles a copy: no block spans the end of one and the next
    starts = [tok.decode(b).split()[0] for b in blocks]
    assert starts.count('bees') == 3


def test_line_corpus_sentence_pairs_train_bert_with_nsp(corpus, vocab):
    """nsp=True: [CLS] A [SEP] B [SEP] with segment ids, labels of both
    kinds, and BERT(nsp=True) learns from them (loss_nsp reaches its
    head)."""
    tok = WordPieceTokenizer.from_file(vocab)
    pairs = LineCorpus(corpus, pack_tokens=24, vocab_file=vocab,
                       split='all', nsp=True, nsp_seed=0)
    labels = [s['next_sentence_label'] for s in pairs.samples]
    assert set(labels) == {0, 1}
    assert all(len(s['tokens']) + len(s['tokens_pair']) <= 21
               for s in pairs.samples)
    assert all(s['where'].startswith(corpus) for s in pairs.samples)
    again = LineCorpus(corpus, pack_tokens=24, vocab_file=vocab,
                       split='all', nsp=True, nsp_seed=0)
    assert [s['next_sentence_label'] for s in again.samples] == labels

    tokenize, pack = TokenizeText(vocab_file=vocab, max_length=24), \
        PackTextInputs()
    batch = [pack(tokenize(dict(s))) for s in pairs.samples[:8]]
    first, sample = batch[0], pairs.samples[0]
    a, b = len(sample['tokens']), len(sample['tokens_pair'])
    assert first['inputs'][:a + b + 3].tolist() == \
        [tok.cls_id, *sample['tokens'], tok.sep_id, *sample['tokens_pair'],
         tok.sep_id]
    assert first['data_samples']['token_type_ids'][:a + b + 3].tolist() == \
        [0] * (a + 2) + [1] * (b + 1)
    assert first['data_samples']['next_sentence_label'] == labels[0]

    from torch.utils.data import default_collate

    from easymae.registry import MODELS
    torch.manual_seed(0)
    bert = MODELS.build(dict(type='BERT', nsp=True, backbone=dict(
        type='BertEncoder', vocab_size=tok.vocab_size, embed_dim=32,
        depth=1, num_heads=2, max_position_embeddings=24)))
    data = default_collate(batch)
    losses = bert.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'loss_mlm', 'loss_nsp'}
    losses['loss_nsp'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in bert.nsp_head.parameters())
    with pytest.raises(ValueError, match='nsp=True needs pack_tokens'):
        LineCorpus(corpus, nsp=True)


def test_tsv_header_detection_columns_and_labels(tmp_path):
    with_header = tmp_path / 'a.tsv'
    with_header.write_text('label\tcontent\n1\ta warm , funny film .\n'
                           '0\tdull and far too long .\n', encoding='utf-8')
    src = TextClassification(str(with_header), num_classes=2)
    assert [(s['text'], s['gt_label']) for s in src.samples] == [
        ('a warm , funny film .', 1), ('dull and far too long .', 0)]
    bare = tmp_path / 'b.tsv'
    bare.write_text('1\ta warm , funny film .\n', encoding='utf-8')
    assert TextClassification(str(bare))[0]['gt_label'] == 1
    named = tmp_path / 'c.csv'
    named.write_text('sentence,polarity\n"great , really",pos\n',
                     encoding='utf-8')
    src = TextClassification(str(named), label_column='polarity',
                             classes=['neg', 'pos'])
    assert src[0]['text'] == 'great , really' and src[0]['gt_label'] == 1

    with pytest.raises(KeyError, match=r"a\.tsv: no column 'polarity'"):
        TextClassification(str(with_header), label_column='polarity')
    wrong = tmp_path / 'd.tsv'
    wrong.write_text('label\tsentence\n1\tfine\n2\tbroken label\n',
                     encoding='utf-8')
    with pytest.raises(ValueError, match=r'd\.tsv:3: label 2 is outside '
                       r'the 2 classes'):
        TextClassification(str(wrong), num_classes=2)


def test_tsv_subset_is_fixed_by_its_seed(tmp_path):
    rows = ''.join(f'{i % 2}\tphrase number {i}\n' for i in range(50))
    path = tmp_path / 'many.tsv'
    path.write_text('label\tsentence\n' + rows, encoding='utf-8')
    a = TextClassification(str(path), max_samples=10, seed=0)
    b = TextClassification(str(path), max_samples=10, seed=0)
    c = TextClassification(str(path), max_samples=10, seed=1)
    texts = [[s['text'] for s in x.samples] for x in (a, b, c)]
    assert len(a) == 10 and a.num_rows == 50
    assert texts[0] == texts[1] and texts[0] != texts[2]
    numbers = [int(t.split()[-1]) for t in texts[0]]
    assert numbers == sorted(numbers)  # file order kept


@need_shared
def test_shared_sst2_and_wikitext():
    dev = TextClassification(osp.join(SHARED, 'sst2', 'dev.tsv'),
                             num_classes=2)
    labels = [s['gt_label'] for s in dev.samples]
    assert len(labels) == 872 and sum(labels) == 444
    wiki = LineCorpus(osp.join(SHARED, 'wikitext2', 'valid.txt'),
                      unk_marker='<unk>', split='all')
    assert not any(s['text'].startswith('=') for s in wiki.samples)
    assert any('[UNK]' in s['text'] for s in wiki.samples)


def test_captions_as_text(tmp_path):
    (tmp_path / 'a.jpg').write_bytes(b'')
    (tmp_path / 'b.jpg').write_bytes(b'')
    ann = tmp_path / 'pairs.jsonl'
    ann.write_text('{"image": "a.jpg", "captions": ["A dog runs on the '
                   'beach.", "A brown dog plays."]}\n{"image": "b.jpg", '
                   '"captions": "Two cats sleep on a sofa."}\n',
                   encoding='utf-8')
    src = CaptionText(dict(type='ImageText', ann_file=str(ann),
                           data_root=str(tmp_path)))
    assert [s['text'] for s in src.samples] == [
        'A dog runs on the beach.', 'A brown dog plays.',
        'Two cats sleep on a sofa.']


def test_tokenize_text_transform(vocab):
    step = TokenizeText(vocab_file=vocab, max_length=12)
    out = PackTextInputs()(step(dict(text='the queen lays the eggs',
                                     gt_label=1, sample_idx=3)))
    tok = WordPieceTokenizer.from_file(vocab)
    assert out['inputs'].dtype == torch.long and out['inputs'].shape == (12,)
    assert out['inputs'][0] == tok.cls_id
    assert int(out['data_samples']['attention_mask'].sum()) == \
        len(tok.encode_ids('the queen lays the eggs')) + 2
    assert set(out['data_samples']) == {'attention_mask', 'token_type_ids',
                                        'gt_label', 'sample_idx'}
    # pre-tokenised blocks are wrapped, not tokenised again
    wrapped = step(dict(tokens=np.array([7, 8, 9], dtype=np.int32)))
    assert wrapped['input_ids'][:5].tolist() == [tok.cls_id, 7, 8, 9,
                                                 tok.sep_id]
    strict = TokenizeText(vocab_file=vocab, max_length=5, truncation=False)
    with pytest.raises(ValueError, match='corpus.txt:7: .* exceed '
                       'max_length 5'):
        strict(dict(text='the queen lays the eggs',
                    where='corpus.txt:7'))
    with pytest.raises(FileNotFoundError, match='build_vocab.py'):
        TokenizeText(vocab_file=vocab + '.missing')
