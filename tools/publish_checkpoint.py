#!/usr/bin/env python
"""Prepare a checkpoint for release and print its model-zoo entry.

    python tools/publish_checkpoint.py CKPT [--name NAME] [--out DIR]
        [--pth] [--encoder-only] [--url-base URL]

Strips optimizer and runner state, writes ``NAME-<sha256[:8]>.safetensors``
(and ``.pth`` with ``--pth``) into DIR (default: beside CKPT), and prints a
JSON entry to paste into easymae/hub/zoo.json (fill in ``metric`` and
``config``). ``--encoder-only`` keeps only the ViT encoder, in timm layout.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.hub.publish import publish  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ckpt', help='training checkpoint (.pth)')
    parser.add_argument('--name', help='release name (default: file stem)')
    parser.add_argument('--out', help='output folder (default: beside CKPT)')
    parser.add_argument('--pth', action='store_true',
                        help='also write a .pth next to the safetensors')
    parser.add_argument('--encoder-only', action='store_true',
                        help='keep only the encoder (timm layout)')
    parser.add_argument('--url-base', default='',
                        help='where the file will be hosted')
    args = parser.parse_args(argv)
    out = args.out or os.path.dirname(os.path.abspath(args.ckpt))
    try:
        result = publish(args.ckpt, out, args.name, args.pth,
                         args.encoder_only, args.url_base)
    except Exception as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    for f in result['files']:
        print(f"wrote {f['path']} ({f['size']} bytes, sha256 {f['sha256']})")
    print('zoo entry:')
    print(json.dumps({result['name']: result['entry']}, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
