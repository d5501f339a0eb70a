#!/usr/bin/env python
"""Reconstruction pictures from an MAE checkpoint.

    python tools/visualize_mae.py CKPT IMAGE [IMAGE ...] [--config CFG]
                                  [--out DIR] [--mask-ratio R] [--seed S]

Writes one PNG grid: rows are images; columns are the original, the masked
input, the reconstruction, and the reconstruction with the visible patches
pasted back. The config defaults to the one stored in the checkpoint.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

from easymae.datasets.transforms import read_image  # noqa: E402
from easymae.datasets.transforms.processing import resize  # noqa: E402
from easymae.registry import MODELS  # noqa: E402
from easymae.visualization import make_grid, reconstruct  # noqa: E402


def load_model(ckpt_path: str, config: str = None):
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=True)
    if config:
        cfg = Config.fromfile(config)
    elif 'cfg' in ckpt.get('meta', {}):
        cfg = Config.fromstring(ckpt['meta']['cfg'], file_format='.py')
    else:
        raise SystemExit(f'{ckpt_path} stores no config; pass --config')
    model_cfg = cfg.model
    if model_cfg.get('type') not in ('MAE', 'MAEAttentionDistill'):
        raise SystemExit(f'{ckpt_path}: expected an MAE checkpoint, its '
                         f"config builds {model_cfg.get('type')!r}")
    model_cfg = dict(model_cfg, type='MAE')
    model_cfg.pop('teacher', None)
    for key in ('student_layers', 'teacher_layers', 'distill_weight'):
        model_cfg.pop(key, None)
    import easymae  # noqa: F401
    model = MODELS.build(model_cfg)
    state = ckpt.get('state_dict', ckpt)
    state = {k: v for k, v in state.items()
             if not k.startswith(('teacher.', 'attn_adapter.'))}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f'{ckpt_path} does not match the MAE model: '
                         f'missing {missing}, unexpected {unexpected}')
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--config')
    parser.add_argument('--out', default='.')
    parser.add_argument('--mask-ratio', type=float)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    model = load_model(args.checkpoint, args.config)
    if args.mask_ratio is not None:
        model.mask_ratio = args.mask_ratio
    size = model.backbone.img_size
    batch = []
    for path in args.images:
        img = read_image(path)
        h, w = img.shape[:2]
        s = min(h, w)  # centre square, then the model's size
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        img = resize(img, (size, size), 'bicubic')
        batch.append(torch.from_numpy(img.copy()).permute(2, 0, 1))
    gen = torch.Generator().manual_seed(args.seed)
    noise = torch.rand(len(batch), model.backbone.num_patches, generator=gen)
    grid = make_grid(reconstruct(model, torch.stack(batch), noise))
    os.makedirs(args.out, exist_ok=True)
    name = osp.splitext(osp.basename(args.checkpoint))[0]
    out = osp.join(args.out, f'reconstruction_{name}.png')
    cv2.imwrite(out, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(out)


if __name__ == '__main__':
    main()
