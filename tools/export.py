#!/usr/bin/env python
"""Export a checkpoint's classifier or bare encoder to ONNX or TorchScript.

    python tools/export.py CHECKPOINT --format onnx|torchscript --out FILE
        [--config C] [--part classifier|encoder] [--images IMG_OR_DIR...]
        [--opset 17] [--atol 1e-4]

The exported model takes normalised float32 images (N, 3, H, W), batch
axis dynamic, and returns logits (classifier) or pooled features
(encoder). After export it is run (onnxruntime for ONNX, torch.jit.load
for TorchScript) beside the PyTorch model on real images -- ``--images``,
else 8 of the embedded held-out digits -- put through the model's own
evaluation pipeline; the largest absolute difference is printed and must
be at most ``--atol``. ``FILE.json`` records how to feed the model (input
size, channel order, value scale, mean / std), the ONNX opset, the class
names and the check's result.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import run_tool  # noqa: E402
from easymae.fileio import atomic_write_bytes  # noqa: E402
from easymae.hub.export import (  # noqa: E402
    DEFAULT_OPSET,
    FORMATS,
    PARTS,
    ExportError,
    ExportVerificationError,
    export_model,
    input_spec,
    max_abs_difference,
    normalise,
)
from easymae.predict import ConfigNameError, list_images, load_predictor  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--config', help="config file or name instead of "
                        "the checkpoint's stored one")
    parser.add_argument('--format', required=True, choices=FORMATS)
    parser.add_argument('--out', required=True, help='the exported file')
    parser.add_argument('--part', default='classifier', choices=PARTS)
    parser.add_argument('--images', nargs='+',
                        help='real images to check the export on (default: '
                        '8 embedded held-out digits)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--atol', type=float, default=1e-4)
    return parser.parse_args(argv)


def check_images(predictor, paths=None, limit: int = 8) -> torch.Tensor:
    """uint8 (N, 3, H, W) real images through the model's eval pipeline."""
    if paths:
        items = list_images(paths)
    else:
        from easymae.datasets.sources import Digits
        source = Digits('val')
        items = [source[i]['img'] for i in range(limit)]
    batch = []
    for item in items:
        try:
            batch.append(predictor.load(item))
        except Exception as err:  # a bad file among them: said, skipped
            print(f'skipping {item if isinstance(item, str) else "array"}: '
                  f'{err}', file=sys.stderr)
    if len(batch) < 1:
        raise ExportError('no image to check the export on could be read')
    return torch.stack(batch)


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint!r}')
    predictor = load_predictor(args.checkpoint, args.config, device='cpu')
    model = predictor.model
    spec = input_spec(model)
    x = normalise(check_images(predictor, args.images), spec)
    # exported at batch 2 (or 1), checked at the whole batch: the batch
    # axis must be dynamic for the check to pass
    graph = export_model(model, args.out, args.format, args.part,
                         example=x[:2], opset=args.opset)
    diff = max_abs_difference(args.out, args.format, graph, x)
    print(f'{args.format} {args.part}: max abs difference to PyTorch '
          f'{diff:.3g} over {len(x)} images (exported at batch '
          f'{min(2, len(x))})')
    info = dict(
        format=args.format, part=args.part,
        opset=args.opset if args.format == 'onnx' else None,
        input=dict(name='input', **spec),
        output=dict(name='output', shape=['batch', None],
                    kind='logits' if args.part == 'classifier'
                    else 'pooled features'),
        classes=predictor.classes if args.part == 'classifier' else None,
        checkpoint=os.path.basename(args.checkpoint),
        torch_version=torch.__version__,
        check=dict(images=len(x), max_abs_diff=diff, atol=args.atol))
    with torch.no_grad():
        info['output']['shape'][1] = int(graph(x[:1]).shape[-1])
    atomic_write_bytes(json.dumps(info, indent=1).encode(),
                       f'{args.out}.json')
    if not diff <= args.atol:
        raise ExportVerificationError(
            f'{args.out}: the exported model differs from PyTorch by '
            f'{diff:.3g} > {args.atol:g}')
    print(f'{args.out} (+ {os.path.basename(args.out)}.json)')
    return info


def cli(argv=None) -> int:
    try:
        return run_tool(main, argv)
    except (ConfigNameError, ExportError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(cli())
