#!/usr/bin/env python
"""Convert a ViT checkpoint between layouts, and say exactly what changed.

    python tools/convert_checkpoint.py SRC DST [--from auto|easymae|
        mae-official|easycv|mmpretrain|timm] [--to easymae|timm]
        [--prefix P]

SRC is a path, URL or model-zoo name; it is loaded without running code
(``weights_only=True`` / safetensors). The encoder is renamed to timm's names
(decoder, mask token and pretraining-only keys dropped) and written as
``--to timm`` (a flat state dict that ``timm.create_model(...,
num_classes=0)`` loads strictly; ``.safetensors`` DST supported) or
``--to easymae`` (``{'state_dict': {'backbone.*', 'head.*'}}``). Prints the
key report; exits non-zero when the result is not a complete ViT encoder
(unexpected or missing keys), on an unknown layout, or on an unsafe file.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.hub import (  # noqa: E402
    LAYOUTS,
    check_complete,
    load_file,
    resolve_checkpoint,
    to_easymae,
    to_timm,
)
from easymae.hub.save import save_weights  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint path, URL or zoo name')
    parser.add_argument('dst', help='output file (.pth or .safetensors)')
    parser.add_argument('--from', dest='layout', default='auto',
                        choices=('auto',) + LAYOUTS)
    parser.add_argument('--to', default='timm', choices=('easymae', 'timm'))
    parser.add_argument('--prefix', default=None,
                        help='keep only keys under this prefix (stripped)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        path = resolve_checkpoint(args.src)
        conv = to_timm(load_file(path), layout=args.layout,
                       prefix=args.prefix, source=path)
        print(conv.report())
        for old, new in list(conv.renamed.items())[:8]:
            print(f'  renamed {old} -> {new}')
        if len(conv.renamed) > 8:
            print(f'  ... and {len(conv.renamed) - 8} more renamed')
        check_complete(conv)
    except Exception as e:  # one clear line and a non-zero exit
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    out = dict(conv.state_dict) if args.to == 'timm' else \
        to_easymae(conv.state_dict)
    save_weights(out, args.dst)
    print(f'wrote {args.dst} ({args.to} layout, '
          f'{len(conv.state_dict)} tensors)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
