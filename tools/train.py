#!/usr/bin/env python
"""Train from a config: pretraining and finetuning alike.

    python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

Runs alone or under ``torchrun --nproc_per_node=N tools/train.py CONFIG
--launcher pytorch`` (gloo on CPU, nccl on GPU).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import DictAction, build_runner, load_config, run_tool  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const=True, default=None,
                        help='resume from CKPT, or from the latest checkpoint '
                        'in the work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bf16 autocast; CPU and GPU)')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also write TensorBoard event files (needs '
                        'the tensorboard package)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. '
                        'model.mask_ratio=0.5 train_dataloader.batch_size=32')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    runner = build_runner(cfg, work_dir=args.work_dir, launcher=args.launcher,
                          amp=args.amp, resume=args.resume,
                          tensorboard=args.tensorboard)
    runner.train()


if __name__ == '__main__':
    sys.exit(run_tool(main))
