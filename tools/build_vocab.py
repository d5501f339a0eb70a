#!/usr/bin/env python
"""Train BERT's WordPiece vocabulary from line corpora.

    python tools/build_vocab.py CORPUS... --vocab-size N --out vocab.json
        [--min-frequency 2] [--cased] [--keep-headings]
        [--unk-marker '<unk>']

A corpus holds one document or paragraph a line (WikiText's ``= heading =``
lines and blank lines are skipped). The output is one tokenizer file with
``[PAD] [UNK] [CLS] [SEP] [MASK]`` as ids 0-4; configs name it as
``vocab_file`` and training copies it beside the checkpoints.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.text.corpus import CorpusError, iter_text
from easymae.text.wordpiece import VocabularyError, train_wordpiece


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('corpus', nargs='+', help='UTF-8 text files')
    parser.add_argument('--vocab-size', type=int, required=True,
                        help='most tokens in the vocabulary (BERT: 30522)')
    parser.add_argument('--out', required=True, help='tokenizer file to '
                        'write (.json)')
    parser.add_argument('--min-frequency', type=int, default=2,
                        help='a merge must occur this often (default 2)')
    parser.add_argument('--cased', action='store_true',
                        help='keep case and accents (default: uncased)')
    parser.add_argument('--keep-headings', action='store_true',
                        help="keep WikiText '= heading =' lines as text")
    parser.add_argument('--unk-marker', default=None,
                        help="the corpus's unknown-word marker (WikiText: "
                        "'<unk>'), read as [UNK]")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.out.endswith('.json'):
        print(f'error: --out {args.out!r} should end in .json (the '
              'tokenizer file format)', file=sys.stderr)
        return 1
    start = time.time()
    try:
        texts = iter_text(args.corpus, skip_headings=not args.keep_headings,
                          unk_marker=args.unk_marker)
        tok = train_wordpiece(texts, args.vocab_size, args.min_frequency,
                              lowercase=not args.cased)
    except (CorpusError, VocabularyError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    tok.save(args.out)
    print(f'wrote {args.out}: {tok.vocab_size} tokens '
          f'({"cased" if args.cased else "uncased"}) from '
          f'{len(args.corpus)} file(s) in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
