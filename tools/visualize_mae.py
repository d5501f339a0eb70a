#!/usr/bin/env python
"""Reconstruction pictures from an MAE checkpoint.

    python tools/visualize_mae.py CKPT IMAGE [IMAGE ...] [--config CFG]
                                  [--out DIR] [--mask-ratio R] [--seed S]

Writes one PNG grid: rows are images (centre square, resized to the model's
input); columns are the original, the masked input, the reconstruction, and
the reconstruction with the visible patches pasted back. The config defaults
to the one stored in the checkpoint.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import torch  # noqa: E402

from easymae.analysis import load_image_files, load_model_from_checkpoint  # noqa: E402
from easymae.apis import run_tool  # noqa: E402
from easymae.models import MAE  # noqa: E402
from easymae.visualization import make_grid, reconstruct  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--config')
    parser.add_argument('--out', default='.')
    parser.add_argument('--mask-ratio', type=float)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    model = load_model_from_checkpoint(args.checkpoint, args.config)
    if not isinstance(model, MAE):
        raise SystemExit(f'{args.checkpoint}: expected an MAE checkpoint, '
                         f'its config builds {type(model).__name__}')
    if args.mask_ratio is not None:
        model.mask_ratio = args.mask_ratio
    images = load_image_files(args.images, model.backbone.img_size)
    gen = torch.Generator().manual_seed(args.seed)
    noise = torch.rand(len(images), model.backbone.num_patches,
                       generator=gen)
    grid = make_grid(reconstruct(model, images, noise))
    os.makedirs(args.out, exist_ok=True)
    name = osp.splitext(osp.basename(args.checkpoint))[0]
    out = osp.join(args.out, f'reconstruction_{name}.png')
    cv2.imwrite(out, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(out)


if __name__ == '__main__':
    sys.exit(run_tool(main))
