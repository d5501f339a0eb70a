#!/usr/bin/env python
"""The gradient mask's sparsity per block across its updates (PNG).

    python tools/analysis/mask_sparsity.py CKPT [CKPT ...] --out fig.png

Each checkpoint of a run trained with ``GradientMaskOptimWrapper`` carries
the mask and the per-block sparsity measured at every update so far (in
its optimizer state). One panel per checkpoint: x = block, y = share of
the block's weights that follow the image gradient, one line per update.
The checkpoint's current mask is recounted and must agree with the last
update's figures.
"""
import argparse
import io
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from easymae.engine.gradient_mask import sparsity_by_block  # noqa: E402
from easymae.fileio.atomic import atomic_write_bytes  # noqa: E402
from easymae.fileio.safe_load import load_file  # noqa: E402

SHARED = ('backbone.blocks.', 'backbone.norm.')


def mask_state(path: str) -> dict:
    """The wrapper's saved state of a checkpoint, or an error naming it."""
    checkpoint = load_file(path)
    state = checkpoint.get('optimizer', {}) if isinstance(checkpoint,
                                                          dict) else {}
    ours = state.get('gradient_mask') if isinstance(state, dict) else None
    if not ours:
        raise SystemExit(f'{path}: no gradient mask in its optimizer state '
                         '(not a checkpoint of a GradientMaskOptimWrapper '
                         'run)')
    if not ours['masks']:
        raise SystemExit(f'{path}: the mask has not been updated yet '
                         f'(step {int(ours["num_steps"])})')
    return ours


def read(path: str):
    """(block names, per-update sparsity rows, their steps)."""
    ours = mask_state(path)
    blocks = sparsity_by_block(ours['masks'], SHARED)
    rows = ours['history'].tolist()
    steps = ours['history_iters'].tolist()
    now = list(blocks.values())
    if rows and max(abs(a - b) for a, b in zip(rows[-1], now)) > 1e-9:
        raise SystemExit(f'{path}: the saved mask does not match its last '
                         'recorded update')
    return list(blocks), rows, steps


def plot(paths, out: str) -> None:
    fig, axes = plt.subplots(1, len(paths), squeeze=False,
                             figsize=(5.5 * len(paths), 4))
    for ax, path in zip(axes[0], paths):
        names, rows, steps = read(path)
        cmap = plt.get_cmap('viridis')
        for i, (row, step) in enumerate(zip(rows, steps)):
            ax.plot(range(len(names)), row, marker='o',
                    color=cmap(i / max(1, len(rows) - 1)),
                    label=f'update {i + 1} (step {step})')
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n.replace('block ', '') for n in names])
        ax.set_xlabel('block')
        ax.set_ylabel('mask sparsity (share following the image gradient)')
        ax.set_ylim(0, 1)
        ax.set_title(osp.basename(path))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=120)
    plt.close(fig)
    atomic_write_bytes(buf.getvalue(), out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoints', nargs='+', metavar='CKPT')
    parser.add_argument('--out', required=True, help='the PNG to write')
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        if not osp.isfile(path):
            raise SystemExit(f'checkpoint not found: {path}')
    plot(args.checkpoints, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(main())
