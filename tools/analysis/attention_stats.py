#!/usr/bin/env python
"""Attention distance and entropy per layer of a trained ViT.

    python tools/analysis/attention_stats.py CKPT [--config CFG]
        [--images DIR] [--num-images N] [--out DIR]

Writes attention_distance.png and attention_entropy.png (box plots over
heads, one box per layer) and attention_stats.json with the numbers.
Images default to the embedded digits' val split.
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

from easymae.analysis import (attention_distance_and_entropy,  # noqa: E402
                              load_images, load_model_from_checkpoint)


def box_plot(values, ylabel, title, path):
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(values) + 2), 3.5))
    ax.boxplot([v for v in values])  # one box per layer, over heads
    ax.set_xticks(range(1, len(values) + 1),
                  [str(i + 1) for i in range(len(values))])
    ax.set_xlabel('layer')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--config')
    parser.add_argument('--images', help='folder of .jpg/.png images')
    parser.add_argument('--num-images', type=int, default=64)
    parser.add_argument('--out', default='attention_stats')
    args = parser.parse_args(argv)
    model = load_model_from_checkpoint(args.checkpoint, args.config)
    vit = model.backbone
    imgs = load_images(args.images, vit.img_size, args.num_images)
    x = model.data_preprocessor(dict(inputs=imgs), False)['inputs']
    dist, ent = attention_distance_and_entropy(vit, x)
    os.makedirs(args.out, exist_ok=True)
    name = osp.basename(args.checkpoint)
    box_plot(dist.numpy(), 'mean attention distance (px)',
             f'attention distance: {name}',
             osp.join(args.out, 'attention_distance.png'))
    box_plot(ent.numpy(), 'mean attention entropy (nats)',
             f'attention entropy: {name}',
             osp.join(args.out, 'attention_entropy.png'))
    stats = dict(checkpoint=args.checkpoint, num_images=int(imgs.shape[0]),
                 distance_per_layer_head=dist.tolist(),
                 entropy_per_layer_head=ent.tolist())
    with open(osp.join(args.out, 'attention_stats.json'), 'w') as f:
        json.dump(stats, f, indent=1)
    for i, (d, e) in enumerate(zip(dist, ent)):
        print(f'layer {i + 1:2d}: distance {d.mean():6.2f} px '
              f'(heads {d.min():.2f}-{d.max():.2f}), entropy '
              f'{e.mean():.3f} nats')
    print(f'written to {args.out}/')


if __name__ == '__main__':
    main()
