#!/usr/bin/env python
"""Classify images (or extract their features) with a trained checkpoint.

    python tools/predict.py CONFIG_OR_NAME CHECKPOINT IMAGE_OR_FOLDER...
        [--topk K] [--out results.jsonl] [--device cpu|cuda]
        [--batch-size N] [--classes cat,dog | --classes FILE]
        [--templates simple] [--features feats.npy] [--no-progress]

CONFIG_OR_NAME is a config file, a config name under configs/ (the file
name, or a unique part of it), or ``-`` for the config stored in the
checkpoint (read as data, never executed). Images are decoded and resized
by the model's own evaluation pipeline and run in batches. A classifier
prints its top-k classes with scores, named from the checkpoint (class
indices, with a note, when it stores none). An image-text checkpoint
(FLIP / CLIP) classifies zero-shot into ``--classes``. ``--features``
writes one row per image that could be read to a ``.npy`` file, with the
images in that order beside it (``FILE.images.txt``). An image that cannot
be decoded is named and listed at the end; the others are still done.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import run_tool  # noqa: E402
from easymae.fileio import atomic_write_bytes  # noqa: E402
from easymae.predict import ConfigNameError, load_predictor  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help="config file or name, or '-' for "
                        "the checkpoint's own")
    parser.add_argument('checkpoint', help='checkpoint (or model-zoo name)')
    parser.add_argument('images', nargs='+', help='image files or folders')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--out', help='write one JSON line per image here')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--classes', help="zero-shot class names: 'cat,dog' "
                        'or a file with one name a line')
    parser.add_argument('--templates', default='simple',
                        help='zero-shot prompt templates (a set name)')
    parser.add_argument('--features', help='write features to this .npy')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    args = parser.parse_args(argv)
    if args.topk < 1 or args.batch_size < 1:
        parser.error('--topk and --batch-size must be at least 1')
    return args


def describe(record: dict) -> str:
    if 'error' in record:
        return f'{record["image"]}: ERROR {record["error"]}'
    if 'topk' not in record:
        return f'{record["image"]}: features {record["features"].shape}'
    tops = ', '.join(
        f'{t["class"] if t["class"] is not None else t["label"]} '
        f'{t["score"]:.4f}' for t in record['topk'])
    return f'{record["image"]}: {tops}'


def main(argv=None):
    args = parse_args(argv)
    config = None if args.config == '-' else args.config
    if not os.path.exists(args.checkpoint) and os.sep in args.checkpoint:
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint!r}')
    predictor = load_predictor(args.checkpoint, config, args.classes,
                               args.templates, args.device)
    for note in predictor.notes:
        print(f'note: {note}', file=sys.stderr)
    results = predictor(args.images, topk=args.topk,
                        batch_size=args.batch_size,
                        features=bool(args.features),
                        progress=not args.no_progress)
    for record in results:
        print(describe(record))
    done = [r for r in results if 'error' not in r]
    if args.features and done:
        feats = np.stack([r['features'] for r in done]).astype(np.float32)
        tmp = f'{args.features}.writing.npy'
        np.save(tmp, feats)
        os.replace(tmp, args.features)
        names = ''.join(f'{r["image"]}\n' for r in done)
        atomic_write_bytes(names.encode(), f'{args.features}.images.txt')
        print(f'features {feats.shape} -> {args.features}')
        row = 0
        for record in results:
            if 'features' in record:
                record['feature_row'] = row
                row += 1
    if args.out:
        lines = [json.dumps({k: v for k, v in r.items() if k != 'features'})
                 for r in results]
        atomic_write_bytes(('\n'.join(lines) + '\n').encode(), args.out)
        print(f'{len(results)} results -> {args.out}')
    failed = [r for r in results if 'error' in r]
    if failed:
        print(f'{len(failed)} of {len(results)} images could not be read:',
              file=sys.stderr)
        for record in failed:
            print(f'  {record["image"]}: {record["error"]}', file=sys.stderr)
    if not done:
        raise RuntimeError('no image could be read')
    return results


def cli(argv=None) -> int:
    try:
        return run_tool(main, argv)
    except (ConfigNameError, RuntimeError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(cli())
