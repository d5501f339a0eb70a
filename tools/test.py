#!/usr/bin/env python
"""Evaluate a trained classifier: prints top-1 / top-5 on the test split.

    python tools/test.py CONFIG CHECKPOINT [--work-dir D] [--cfg-options ...]
                         [--launcher none|pytorch|slurm]

The checkpoint (one written by tools/train.py) is loaded with
``weights_only=True`` and *strictly*: a checkpoint of another model is an
error listing the missing and unexpected keys, never a silent evaluation of
random weights. Such errors are one ``error: ...`` line and exit status 1.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import (DictAction, build_runner, load_config,  # noqa
                          load_model_weights, run_tool)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint written by training')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint!r}')
    cfg = load_config(args.config, args.cfg_options)
    if not cfg.get('test_dataloader') or not cfg.get('test_evaluator'):
        raise ValueError(f'{args.config} has no test_dataloader / '
                         'test_evaluator to evaluate on')
    cfg.load_from = None  # we load strictly below, not mmengine's lax way
    cfg.resume = False
    if args.work_dir is None and cfg.get('work_dir') is None:
        name = os.path.splitext(os.path.basename(args.config))[0]
        args.work_dir = os.path.join('work_dirs', name, 'test')
    runner = build_runner(cfg, work_dir=args.work_dir, launcher=args.launcher)
    load_model_weights(runner.model, args.checkpoint)
    metrics = runner.test()
    if runner.rank == 0:
        line = ', '.join(f'{k}: {v:.2f}' for k, v in metrics.items())
        print(f'{os.path.basename(args.checkpoint)} on '
              f'{os.path.basename(args.config)}: {line}')
        print(json.dumps({k: float(v) for k, v in metrics.items()}))
    return metrics


if __name__ == '__main__':
    sys.exit(run_tool(main))
