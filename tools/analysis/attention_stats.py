#!/usr/bin/env python
"""Attention distance and entropy per layer of one or more trained ViTs.

    python tools/analysis/attention_stats.py CKPT [CKPT ...]
        [--labels NAME ...] [--config CFG ...]
        [--encoder backbone|teacher|momentum ...] [--images DIR]
        [--num-images N] [--out DIR]

Writes attention_distance.png and attention_entropy.png (box plots over
heads, one box per layer and model, the models side by side, as in the
MAE-Lite paper's comparison of pretrained encoders) and
attention_stats.json with the numbers. Every model sees the same images
(the embedded digits' val split by default).
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

from easymae.analysis import (  # noqa: E402
    ENCODERS,
    attention_distance_and_entropy,
    encoder_of,
    load_images,
    load_model_from_checkpoint,
)
from easymae.apis import run_tool  # noqa: E402


def box_plot(per_model, labels, ylabel, title, path):
    """per_model: one (layers, heads) array per model; the boxes of a layer
    sit side by side, one colour per model."""
    n, layers = len(per_model), len(per_model[0])
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * layers * n + 2)
                                    + (2 if n > 1 else 0), 3.5))
    for m, (values, label) in enumerate(zip(per_model, labels)):
        pos = [i + 1 + (m - (n - 1) / 2) * width for i in range(layers)]
        colour = f'C{m}'
        ax.boxplot(list(values), positions=pos, widths=width * 0.9,
                   patch_artist=True, manage_ticks=False,
                   boxprops=dict(facecolor=colour, alpha=0.45),
                   medianprops=dict(color=colour))
        ax.plot([], [], color=colour, linewidth=6, alpha=0.45, label=label)
    ax.set_xticks(range(1, layers + 1), [str(i + 1) for i in range(layers)])
    ax.set_xlabel('layer')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if n > 1:
        ax.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoints', nargs='+', metavar='checkpoint')
    parser.add_argument('--labels', nargs='+',
                        help='one name per checkpoint (default: the file '
                        'names)')
    parser.add_argument('--config', nargs='+', default=[None],
                        help='one config for all checkpoints, or one each '
                        '(default: the config stored in each checkpoint)')
    parser.add_argument('--encoder', nargs='+', default=['backbone'],
                        choices=sorted(ENCODERS),
                        help="which ViT of each model, one for all or one "
                        "each: its backbone, DINO's teacher or MoCo v3's "
                        'momentum encoder')
    parser.add_argument('--images', help='folder of .jpg/.png images')
    parser.add_argument('--num-images', type=int, default=64)
    parser.add_argument('--out', default='attention_stats')
    args = parser.parse_args(argv)
    n = len(args.checkpoints)
    labels = args.labels or [osp.basename(c) for c in args.checkpoints]
    configs = args.config * n if len(args.config) == 1 else args.config
    encoders = args.encoder * n if len(args.encoder) == 1 else args.encoder
    if len(labels) != n or len(configs) != n or len(encoders) != n:
        parser.error(f'{n} checkpoints need {n} --labels, and one --config '
                     f'and --encoder or {n} (got {len(labels)}, '
                     f'{len(configs)} and {len(encoders)})')

    models = []
    for ckpt, cfg, label, which in zip(args.checkpoints, configs, labels,
                                       encoders):
        model = load_model_from_checkpoint(ckpt, cfg)
        vit = encoder_of(model, which)
        imgs = load_images(args.images, vit.img_size, args.num_images)
        x = model.data_preprocessor(dict(inputs=imgs), False)['inputs']
        dist, ent = attention_distance_and_entropy(vit, x)
        models.append(dict(label=label, checkpoint=ckpt, encoder=which,
                           num_images=int(imgs.shape[0]),
                           distance_per_layer_head=dist.tolist(),
                           entropy_per_layer_head=ent.tolist()))
        print(label)
        for i, (d, e) in enumerate(zip(dist, ent)):
            print(f'  layer {i + 1:2d}: distance {d.mean():6.2f} px '
                  f'(heads {d.min():.2f}-{d.max():.2f}), entropy '
                  f'{e.mean():.3f} nats')

    os.makedirs(args.out, exist_ok=True)
    title = labels[0] if n == 1 else f'{n} models'
    box_plot([m['distance_per_layer_head'] for m in models], labels,
             'mean attention distance (px)', f'attention distance: {title}',
             osp.join(args.out, 'attention_distance.png'))
    box_plot([m['entropy_per_layer_head'] for m in models], labels,
             'mean attention entropy (nats)', f'attention entropy: {title}',
             osp.join(args.out, 'attention_entropy.png'))
    with open(osp.join(args.out, 'attention_stats.json'), 'w') as f:
        json.dump(dict(models=models), f, indent=1)
    print(f'written to {args.out}/')


if __name__ == '__main__':
    sys.exit(run_tool(main))
