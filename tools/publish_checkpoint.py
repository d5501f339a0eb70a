#!/usr/bin/env python
"""Prepare a checkpoint for release and print its model-zoo entry.

    python tools/publish_checkpoint.py CKPT [--name NAME] [--out DIR]
        [--pth] [--encoder-only] [--url-base URL]
        [--hf-dir DIR] [--push ORG/NAME] [--private] [--config CFG]
        [--metric KEY=VALUE ...]

Strips optimizer and runner state, writes ``NAME-<sha256[:8]>.safetensors``
(and ``.pth`` with ``--pth``) into DIR (default: beside CKPT), and prints a
JSON entry to paste into easymae/hub/zoo.json (fill in ``metric`` and
``config``). ``--encoder-only`` keeps only the ViT encoder, in timm layout.

``--hf-dir DIR`` also writes the timm / Hugging Face Hub folder
(``model.safetensors``, ``config.json``, ``README.md`` model card) that
``timm.create_model('local-dir:DIR', pretrained=True)`` loads;
``--push ORG/NAME`` uploads that folder to the Hub (needs a token: $HF_TOKEN
or ``hf auth login``), after which ``timm.create_model('hf-hub:ORG/NAME',
pretrained=True)`` loads it and a zoo entry may list ``hf-hub:ORG/NAME``.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.hub import hf_folder  # noqa: E402
from easymae.hub.publish import publish  # noqa: E402


def _metric(text):
    key, sep, value = text.partition('=')
    if not sep:
        raise argparse.ArgumentTypeError(f'{text!r}: expected KEY=VALUE')
    try:
        return key, float(value)
    except ValueError:
        return key, value


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
    parser.add_argument('--hf-dir', help='also write the timm / Hugging '
                        'Face Hub folder here (default with --push: '
                        'OUT/NAME-hf)')
    parser.add_argument('--push', metavar='ORG/NAME',
                        help='upload the Hub folder to this repository')
    parser.add_argument('--private', action='store_true',
                        help='create the Hub repository private')
    parser.add_argument('--config', help='the training config, when the '
                        'checkpoint stores none (sizes, mean/std, recipe)')
    parser.add_argument('--metric', nargs='+', type=_metric, default=[],
                        metavar='KEY=VALUE',
                        help='metrics for the model card, e.g. '
                        'accuracy/top1=97.5')
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
    hf_dir = args.hf_dir or (os.path.join(out, f"{result['name']}-hf")
                             if args.push else None)
    if not hf_dir:
        return 0
    try:
        config = None
        if args.config:
            from mmengine.config import Config
            config = Config.fromfile(args.config).to_dict()
        command = hf_folder.command_line(
            ['python', 'tools/publish_checkpoint.py',
             *(sys.argv[1:] if argv is None else argv)])
        folder = hf_folder.write_hf_folder(
            args.ckpt, hf_dir, result['name'], config=config,
            metrics=dict(args.metric) or None, repo_id=args.push,
            command=command)
        print(f"wrote {hf_dir}: {folder['architecture']} "
              f"{json.dumps(folder['model_args'])}")
        print(f"load it: timm.create_model('local-dir:"
              f"{os.path.abspath(hf_dir)}', pretrained=True)")
        if args.push:
            url = hf_folder.push_to_hub(hf_dir, args.push,
                                        private=args.private)
            print(f'pushed to {args.push}: {url}')
            print(f"load it: timm.create_model('hf-hub:{args.push}', "
                  'pretrained=True); zoo URL: hf-hub:' + args.push)
    except Exception as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
