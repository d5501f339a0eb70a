#!/usr/bin/env python
"""The plots of docs/results.md, from the results JSON that
tools/experiments/run_results.py writes.

    python tools/plot_results.py [docs/results/results.json] [--out-dir DIR]
        [--text-results docs/results/bert_sst2.json] [--plots FILE ...]

Writes (each only when its runs exist):
  pretrain_loss.png   pretraining loss per iteration, every pretrain run
  finetune_top1.png   val top-1 per epoch of the MAE-vs-scratch finetunes
  mask_ratio.png      final finetune top-1 against the pretraining mask ratio:
                      one line for images (MAE -> CIFAR-10) and, when the
                      text record (default: bert_sst2.json beside the
                      results JSON) has a sweep, one for text (BERT -> SST-2)
  partial_finetune.png  final top-1 against the number of blocks finetuned
  first_blocks.png    final top-1 against the number of pretrained blocks
                      kept, one line per method (the lite-study grid)
and prints a markdown table of every run (name, what, number, wall-clock).
"""
import argparse
import json
import os
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def is_mae_family(step):
    """MAE-loss runs (MAE, its ablations, MAE-Lite): their losses share a
    scale; SimMIM's L1 and FLIP's contrastive loss do not."""
    config = osp.basename(step.get('config', ''))
    return not config.startswith(('simmim', 'flip', 'clip'))


def pixel_targets(step):
    """norm_pix off: the loss is on the image's own (normalised) pixels, a
    different scale from per-patch normalised targets."""
    return 'model.head.norm_pix=False' in step.get('command', '')


def plot_pretrain_loss(steps, path):
    runs = {n: s for n, s in steps.items()
            if s['kind'] == 'pretrain' and is_mae_family(s)}
    if not runs:
        return False
    panels = [('targets: per-patch normalised pixels (norm_pix)',
               {n: s for n, s in runs.items() if not pixel_targets(s)}),
              ('targets: pixels (norm_pix off)',
               {n: s for n, s in runs.items() if pixel_targets(s)})]
    panels = [(title, group) for title, group in panels if group]
    widths = [3 if i == 0 else 1.3 for i in range(len(panels))]
    fig, axes = plt.subplots(1, len(panels),
                             figsize=(3 + 3 * len(panels), 3.6),
                             dpi=90, squeeze=False,
                             gridspec_kw=dict(width_ratios=widths))
    for ax, (title, group) in zip(axes[0], panels):
        # more runs than the default cycle's 10 colours
        ax.set_prop_cycle(color=plt.get_cmap('tab20').colors)
        for name, s in group.items():
            it, loss = zip(*s['loss_curve'])
            if s.get('status') == 'incomplete':
                name += ' (stopped before its end)'
            ax.plot(it, loss, label=name, lw=1.2)
        ax.set_xlabel('iteration')
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel('MAE reconstruction loss')
    fig.suptitle('MAE pretraining loss (the two target kinds have different '
                 'scales)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_finetune_top1(steps, path):
    # the main comparison only: two dozen curves would hide it
    runs = {n: s for n, s in steps.items()
            if s.get('val_top1_curve') and s['kind'] == 'finetune'
            and s.get('group') in ('main', 'main5')}
    if not runs:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=90)
    for name, s in runs.items():
        ep, top1 = zip(*s['val_top1_curve'])
        style = '-' if s.get('init_from') else '--'
        ax.plot(ep, top1, style, marker='.', label=name, lw=1.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('epoch')
    ax.set_ylabel('val top-1 (%)')
    ax.set_title('Finetuning: validation top-1 (dashed: random init)')
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def meta_points(steps, key):
    """(value, [top-1 of every seed]) over the runs that the experiment
    grid marks (``meta[key]``) as differing only in that setting."""
    points = defaultdict(list)
    for s in steps.values():
        value = (s.get('meta') or {}).get(key)
        if value is not None and 'top1' in s:
            points[float(value)].append(s['top1'])
    return sorted(points.items())


def mask_ratio_points(steps):
    return meta_points(steps, 'mask_ratio')


def text_mask_ratio_points(steps):
    """The same from the BERT record (docs/results/bert_sst2.json): its
    finetunes name their final dev accuracy ``dev_top1_final``."""
    return meta_points({n: dict(s, top1=s['dev_top1_final'])
                        for n, s in steps.items() if 'dev_top1_final' in s},
                       'mask_ratio')


def plot_points(points, path, xlabel, title, lines=None):
    """Mean over seeds as a line, every seed as a grey dot. ``lines``:
    several labelled series ``[(label, points)]`` on the same axes instead
    (each with at least two x values)."""
    if lines is None:
        lines = [(None, points)]
    lines = [(label, p) for label, p in lines if len(p) >= 2]
    if not lines:
        return False
    fig, ax = plt.subplots(figsize=(4.5 if len(lines) == 1 else 5.5, 3.6),
                           dpi=90)
    for label, pts in lines:
        xs = [x for x, _ in pts]
        means = [sum(v) / len(v) for _, v in pts]
        ax.plot(xs, means, marker='o', label=label)
        for x, v in pts:
            ax.scatter([x] * len(v), v, s=10, c='gray', zorder=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel('finetune val top-1 (%)')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if any(label for label, _ in lines):
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_mask_ratio(steps, path, text_steps=None):
    image = mask_ratio_points(steps)
    text = text_mask_ratio_points(text_steps or {})
    if len(text) < 2:
        return plot_points(image, path, 'pretraining mask ratio',
                           'Accuracy vs mask ratio')
    return plot_points(None, path, 'pretraining mask ratio',
                       'Accuracy vs mask ratio (line: mean of seeds; '
                       'dots: seeds)',
                       lines=[('image: MAE, CIFAR-10 dev val top-1', image),
                              ('text: BERT-Tiny MLM, SST-2 1k dev accuracy',
                               text)])


def plot_partial(steps, path):
    return plot_points(meta_points(steps, 'train_last_blocks'), path,
                       'blocks finetuned (the last k)',
                       'Partial finetuning of the MAE encoder')


def plot_first_blocks(steps, path):
    """MAE-Lite's "keep the first k blocks": final top-1 against k, one
    line per pretraining method (the runs the grid marks ``meta.blocks``)."""
    methods = sorted({(s.get('meta') or {}).get('method') for s in
                      steps.values() if (s.get('meta') or {}).get('blocks')})
    lines = [(method, meta_points(
        {n: s for n, s in steps.items()
         if (s.get('meta') or {}).get('method') == method}, 'blocks'))
        for method in methods]
    return plot_points(None, path, 'blocks kept (the first k)',
                       'Finetuning the first k pretrained blocks',
                       lines=lines)


def table(steps):
    lines = ['| run | what | result | wall-clock |', '|---|---|---|---|']
    for name, s in steps.items():
        if 'top1' in s:
            res = f"top-1 {s['top1']:.2f}%"
        else:
            res = f"final loss {s['final_loss']:.4f}"
        if s.get('status') == 'incomplete':
            res += ' (incomplete run)'
        wall = f"{s['wall_s'] / 60:.1f} min" if 'wall_s' in s else '-'
        lines.append(f"| {name} | {s.get('label', '')} | {res} | {wall} |")
    return '\n'.join(lines)


PLOTS = {'pretrain_loss.png': plot_pretrain_loss,
         'finetune_top1.png': plot_finetune_top1,
         'mask_ratio.png': plot_mask_ratio,
         'partial_finetune.png': plot_partial,
         'first_blocks.png': plot_first_blocks}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('results', nargs='?',
                        default=osp.join(REPO, 'docs/results/results.json'))
    parser.add_argument('--out-dir', help='default: beside the results JSON')
    parser.add_argument('--plots', nargs='+', choices=sorted(PLOTS),
                        help='only these files (default: every one whose '
                        'runs exist)')
    parser.add_argument('--text-results',
                        help='the BERT record whose finetunes carry '
                        'meta.mask_ratio (default: bert_sst2.json beside '
                        'the results JSON, when it exists)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.results):
        raise SystemExit(f'no results file: {args.results} (run '
                         'tools/experiments/run_results.py first)')
    with open(args.results) as f:
        steps = json.load(f).get('steps')
    if not isinstance(steps, dict):
        raise SystemExit(f'{args.results}: no "steps" mapping; not a '
                         'run_results.py file')
    text_path = args.text_results or osp.join(
        osp.dirname(osp.abspath(args.results)), 'bert_sst2.json')
    text_steps = {}
    if osp.isfile(text_path):
        with open(text_path) as f:
            text_steps = json.load(f).get('steps') or {}
    elif args.text_results:
        raise SystemExit(f'no text results file: {text_path}')
    out = args.out_dir or osp.dirname(osp.abspath(args.results))
    os.makedirs(out, exist_ok=True)
    for fname in args.plots or PLOTS:
        fn, path = PLOTS[fname], osp.join(out, fname)
        extra = (text_steps,) if fn is plot_mask_ratio else ()
        print(('wrote ' if fn(steps, path, *extra) else 'no runs for ') +
              path)
    print(table(steps))


if __name__ == '__main__':
    main()
