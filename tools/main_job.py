#!/usr/bin/env python
"""The main job: MAE pretrain -> convert -> finetune -> top-1, on the
embedded handwritten digits, with the same finetune from random init beside
it. Each step is the command a user would type; they are printed as they run.

    python tools/main_job.py [--work-dir work_dirs/main_job] [--fp32]
                             [--pretrain-epochs N] [--finetune-epochs N]

Training runs with bf16 autocast (``--amp``) unless ``--fp32`` is given: on
CPUs with AVX-512 bf16 it is the faster of the two.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN = 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'
FINETUNE = ('configs/classification/mae/'
            'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py')
SCRATCH = ('configs/classification/mae/'
           'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py')


def run(cmd, log_path):
    """Run one step, its output to a log file; stop on failure."""
    print('$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    with open(log_path, 'w') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log_path) as f:
            tail = f.readlines()[-25:]
        sys.stdout.write(''.join(tail))
        raise SystemExit(f'step failed (exit {proc.returncode}); full log: '
                         f'{log_path}')
    print(f'  done in {time.time() - start:.0f} s (log: {log_path})',
          flush=True)
    return log_path


def epochs_options(n):
    """Shorten (or lengthen) a recipe: its schedulers end at 'max', so the
    cosine follows train_cfg.max_epochs and still ends with the run. The
    warm-up stays a tenth of the run, as in both recipes (3 of 30, 1 of
    10), so a short run still leaves it."""
    return [f'train_cfg.max_epochs={n}', f'warmup_epochs={max(1, n // 10)}']


def last_json(log_path):
    with open(log_path) as f:
        lines = [ln for ln in f if ln.startswith('{')]
    return json.loads(lines[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument('--fp32', action='store_true',
                        help='train in float32 instead of bf16 autocast')
    parser.add_argument('--pretrain-epochs', type=int, default=30)
    parser.add_argument('--finetune-epochs', type=int, default=10)
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    amp = [] if args.fp32 else ['--amp']
    start = time.time()

    print('[1/4] MAE pretraining on the digits (train split)')
    pre_dir = osp.join(work, 'pretrain')
    run([py, 'tools/train.py', PRETRAIN, '--work-dir', pre_dir, *amp,
         '--cfg-options', *epochs_options(args.pretrain_epochs)],
        osp.join(work, 'pretrain.log'))
    with open(osp.join(pre_dir, 'last_checkpoint')) as f:
        pre_ckpt = f.read().strip()

    print('[2/4] convert the pretrain checkpoint to a timm-layout backbone')
    backbone = osp.join(work, 'mae_backbone.pth')
    run([py, 'tools/convert_checkpoint.py', pre_ckpt, backbone, '--to',
         'timm'], osp.join(work, 'convert.log'))

    results = {}
    for step, (name, config, init) in enumerate(
            [('MAE-pretrained', FINETUNE, backbone),
             ('from scratch', SCRATCH, None)], start=3):
        print(f'[{step}/4] finetune {name}, then test on the held-out '
              'digits (val split)')
        tag = 'finetune' if init else 'scratch'
        ft_dir = osp.join(work, tag)
        opts = epochs_options(args.finetune_epochs)
        if init:
            opts.append(f'model.backbone.init_cfg.checkpoint={init}')
        run([py, 'tools/train.py', config, '--work-dir', ft_dir, *amp,
             '--cfg-options', *opts], osp.join(work, f'{tag}.log'))
        with open(osp.join(ft_dir, 'last_checkpoint')) as f:
            ckpt = f.read().strip()
        log = run([py, 'tools/test.py', config, ckpt, '--work-dir',
                   osp.join(ft_dir, 'test')],
                  osp.join(work, f'{tag}_test.log'))
        results[name] = last_json(log)

    print(f'\nDigits val split, top-1 after {args.finetune_epochs} finetune '
          f'epochs ({time.time() - start:.0f} s in all):')
    for name, metrics in results.items():
        top1 = next(v for k, v in metrics.items() if 'top1' in k)
        print(f'  {name:15s} top-1 {top1:6.2f}%')
    gain = [next(v for k, v in m.items() if 'top1' in k)
            for m in results.values()]
    print(f'  MAE pretraining gain: {gain[0] - gain[1]:+.2f} points')
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
