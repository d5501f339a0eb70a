#!/usr/bin/env python
"""Linear CKA between every layer of a reference ViT and of one or more
others, as heatmaps (one panel per compared model).

    python tools/analysis/layer_similarity.py CKPT_A CKPT_B [CKPT_B ...]
        [--config-a CFG] [--config-b CFG] [--encoder-a E] [--encoder-b E ...]
        [--label-a NAME] [--labels NAME ...] [--images DIR]
        [--num-images N] [--out DIR]

Every model sees the same images (resized to each model's input size).
``--encoder-*`` picks the ViT inside a model: ``backbone`` (default),
``teacher`` (DINO's EMA teacher) or ``momentum`` (MoCo v3's momentum
encoder). Writes layer_similarity.png and layer_similarity.json (one
panel per CKPT_B; with a single CKPT_B also its ``b`` and ``cka`` at the
top level).
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
    ENCODERS,
    encoder_of,
    layer_features,
    linear_cka,
    load_images,
    load_model_from_checkpoint,
)
from easymae.apis import run_tool  # noqa: E402


def features(checkpoint, config, which, source, num_images):
    model = load_model_from_checkpoint(checkpoint, config)
    vit = encoder_of(model, which)
    imgs = load_images(source, vit.img_size, num_images)
    x = model.data_preprocessor(dict(inputs=imgs), False)['inputs']
    return layer_features(vit, x)


def heatmaps(panels, label_a, path):
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 1, 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        cka = torch.tensor(panel['cka'])
        im = ax.imshow(cka.numpy(), origin='lower', vmin=0, vmax=1,
                       cmap='magma')
        ax.set_title(panel['label'], fontsize=9)
        ax.set_xlabel(f"layer of {panel['label']}", fontsize=8)
        ax.set_xticks(range(cka.shape[1]),
                      [str(i + 1) for i in range(cka.shape[1])])
        ax.set_yticks(range(cka.shape[0]),
                      [str(i + 1) for i in range(cka.shape[0])])
    axes[0][0].set_ylabel(f'layer of {label_a}', fontsize=8)
    fig.colorbar(im, ax=list(axes[0]), label='linear CKA')
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint_a')
    parser.add_argument('checkpoints_b', nargs='+', metavar='checkpoint_b')
    parser.add_argument('--config-a')
    parser.add_argument('--config-b', help='one config for every CKPT_B')
    parser.add_argument('--encoder-a', default='backbone',
                        choices=sorted(ENCODERS))
    parser.add_argument('--encoder-b', nargs='+', default=['backbone'],
                        choices=sorted(ENCODERS),
                        help='one for every CKPT_B, or one each')
    parser.add_argument('--label-a', help='default: the file name')
    parser.add_argument('--labels', nargs='+',
                        help='one name per CKPT_B (default: the file names)')
    parser.add_argument('--images', help='folder of .jpg/.png images')
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--out', default='layer_similarity')
    args = parser.parse_args(argv)
    n = len(args.checkpoints_b)
    labels = args.labels or [osp.basename(c) for c in args.checkpoints_b]
    encoders = args.encoder_b * n if len(args.encoder_b) == 1 \
        else args.encoder_b
    if len(labels) != n or len(encoders) != n:
        parser.error(f'{n} CKPT_B need {n} --labels and one --encoder-b or '
                     f'{n} (got {len(labels)} and {len(encoders)})')
    label_a = args.label_a or osp.basename(args.checkpoint_a)

    feats_a = features(args.checkpoint_a, args.config_a, args.encoder_a,
                       args.images, args.num_images)
    panels = []
    for ckpt, label, which in zip(args.checkpoints_b, labels, encoders):
        feats_b = features(ckpt, args.config_b, which, args.images,
                           args.num_images)
        cka = [[linear_cka(a, b) for b in feats_b] for a in feats_a]
        panels.append(dict(b=ckpt, label=label, encoder=which, cka=cka))
        print(f'{label}: diagonal CKA', ' '.join(
            f'{cka[i][i]:.3f}' for i in range(min(len(cka), len(cka[0])))))
    os.makedirs(args.out, exist_ok=True)
    heatmaps(panels, label_a, osp.join(args.out, 'layer_similarity.png'))
    record = dict(a=args.checkpoint_a, label_a=label_a,
                  encoder_a=args.encoder_a, panels=panels)
    if n == 1:
        record.update(b=panels[0]['b'], cka=panels[0]['cka'])
    with open(osp.join(args.out, 'layer_similarity.json'), 'w') as f:
        json.dump(record, f, indent=1)
    print(f'written to {args.out}/')


if __name__ == '__main__':
    sys.exit(run_tool(main))
