#!/usr/bin/env python
"""Linear CKA between every layer of two trained ViTs, as a heatmap.

    python tools/analysis/layer_similarity.py CKPT_A CKPT_B
        [--config-a CFG] [--config-b CFG] [--images DIR] [--num-images N]
        [--out DIR]

Both models see the same images (resized to each model's input size).
Writes layer_similarity.png and layer_similarity.json.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from easymae.analysis import (  # noqa: E402
    layer_features,
    linear_cka,
    load_images,
    load_model_from_checkpoint,
)
from easymae.apis import run_tool  # noqa: E402


def features(model, source, num_images):
    imgs = load_images(source, model.backbone.img_size, num_images)
    x = model.data_preprocessor(dict(inputs=imgs), False)['inputs']
    return layer_features(model.backbone, x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint_a')
    parser.add_argument('checkpoint_b')
    parser.add_argument('--config-a')
    parser.add_argument('--config-b')
    parser.add_argument('--images', help='folder of .jpg/.png images')
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--out', default='layer_similarity')
    args = parser.parse_args(argv)
    feats_a = features(load_model_from_checkpoint(args.checkpoint_a,
                                                  args.config_a),
                       args.images, args.num_images)
    feats_b = features(load_model_from_checkpoint(args.checkpoint_b,
                                                  args.config_b),
                       args.images, args.num_images)
    cka = torch.tensor([[linear_cka(a, b) for b in feats_b]
                        for a in feats_a])
    os.makedirs(args.out, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(cka.numpy(), origin='lower', vmin=0, vmax=1,
                   cmap='magma')
    ax.set_xlabel(f'layer of B ({osp.basename(args.checkpoint_b)})')
    ax.set_ylabel(f'layer of A ({osp.basename(args.checkpoint_a)})')
    ax.set_xticks(range(len(feats_b)), [str(i + 1)
                                        for i in range(len(feats_b))])
    ax.set_yticks(range(len(feats_a)), [str(i + 1)
                                        for i in range(len(feats_a))])
    fig.colorbar(im, ax=ax, label='linear CKA')
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'layer_similarity.png'), dpi=120)
    plt.close(fig)
    with open(osp.join(args.out, 'layer_similarity.json'), 'w') as f:
        json.dump(dict(a=args.checkpoint_a, b=args.checkpoint_b,
                       cka=cka.tolist()), f, indent=1)
    print('diagonal CKA:', ' '.join(f'{cka[i, i]:.3f}' for i in
                                    range(min(cka.shape))))
    print(f'written to {args.out}/')


if __name__ == '__main__':
    sys.exit(run_tool(main))
