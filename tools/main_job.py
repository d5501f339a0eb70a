#!/usr/bin/env python
"""The main job: MAE pretrain -> convert -> finetune -> top-1, on the
embedded handwritten digits, with the same finetune from random init beside
it. Each step is the command a user would type; they are printed as they run.
A training step shows one live progress line (epoch, iteration, loss, ETA,
validation top-1) while its full log goes to a file in the work dir; the
end names the results, the logs and the reconstruction picture.

    python tools/main_job.py [--work-dir work_dirs/main_job] [--fp32]
                             [--pretrain-epochs N] [--finetune-epochs N]

Training runs with bf16 autocast (``--amp``) where the machine has bf16
matrix units (AMX or AVX-512 bf16 on a CPU; a bf16-capable GPU), where it is
the faster of the two, and in float32 elsewhere or when ``--fp32`` is given.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN = 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'
FINETUNE = ('configs/classification/mae/'
            'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py')
SCRATCH = ('configs/classification/mae/'
           'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py')


class LogProgress:
    """A tqdm bar fed by mmengine's log lines: ``Epoch(train) [e][i/n]``
    lines move it (with loss and mmengine's ETA), ``Epoch(val)`` lines add
    the latest top-1. ``max_epochs`` sizes the bar."""

    TRAIN = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')
    VAL = re.compile(r'Epoch\(val\)\s*\[(\d+)\].*?top1:\s*([\d.]+)')
    ETA = re.compile(r'\beta:\s*(\S+)')
    LOSS = re.compile(r'\bloss:\s*([-\d.eE+]+|nan|inf)')

    def __init__(self, label, max_epochs, file=None):
        self.label, self.max_epochs = label, max_epochs
        self.file = file or sys.stdout
        self.bar = None  # drawn at the first training line
        self.facts = {}

    def feed(self, line):
        m = self.TRAIN.search(line)
        if m:
            epoch, it, per_epoch = map(int, m.groups())
            if self.bar is None:
                from tqdm import tqdm
                self.bar = tqdm(
                    total=self.max_epochs * per_epoch, desc=self.label,
                    unit='it', file=self.file, dynamic_ncols=True,
                    mininterval=0.2, bar_format='{desc} {percentage:3.0f}%|'
                    '{bar:20}| {n_fmt}/{total_fmt} it{postfix}')
            self.bar.n = (epoch - 1) * per_epoch + it
            self.facts['epoch'] = f'{epoch}/{self.max_epochs}'
            for key, pattern in (('loss', self.LOSS), ('eta', self.ETA)):
                found = pattern.search(line)
                if found:
                    self.facts[key] = found.group(1)
        else:
            m = self.VAL.search(line)
            if not m or self.bar is None:
                return
            self.facts['val top-1'] = m.group(2)
        self.bar.set_postfix_str(', '.join(f'{k} {v}' for k, v in
                                           self.facts.items()))

    def close(self, finished=False):
        if self.bar is None:
            return
        if finished:  # the log's last line may be a few iterations short
            self.bar.n = self.bar.total
        self.facts.pop('eta', None)
        self.bar.set_postfix_str(', '.join(f'{k} {v}' for k, v in
                                           self.facts.items()))
        self.bar.close()


def run(cmd, log_path, progress=None):
    """Run one step, its output to a log file (and to ``progress``, a
    LogProgress, line by line as it comes); stop on failure."""
    print('$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    # unbuffered: the log lines reach the bar as they are written
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                text=True, errors='replace')
        try:
            for line in proc.stdout:
                log.write(line)
                if progress is not None:
                    progress.feed(line)
        finally:
            proc.wait()
            if progress is not None:
                progress.close(finished=proc.returncode == 0)
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


def write_digits(folder, n=8):
    """The first ``n`` held-out digits as PNG files (what the pictures
    show): the val split, never seen in pretraining."""
    sys.path.insert(0, REPO)
    import cv2

    from easymae.datasets.sources import Digits
    os.makedirs(folder, exist_ok=True)
    source = Digits('val', img_size=32)
    paths = []
    for i in range(min(n, len(source))):
        path = osp.join(folder, f'digit_{i}.png')
        cv2.imwrite(path, cv2.cvtColor(source[i]['img'], cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def amp_flags(fp32: bool) -> list:
    """``['--amp']`` where bf16 training runs well here, else ``[]`` (and
    a line saying why)."""
    if fp32:
        return []
    sys.path.insert(0, REPO)
    from easymae.engine.precision import bf16_problem_here
    problem = bf16_problem_here()
    if problem:
        print(f'training in float32: {problem}')
        return []
    return ['--amp']


def last_validation(work_dir):
    """The metrics of a run's last validation (its final epoch's, as the
    finetune configs validate every epoch), from mmengine's scalar record
    in ``work_dir/<timestamp>/vis_data/scalars.json``."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records += [json.loads(ln) for ln in f if ln.strip()]
    metrics = [r for r in records if any('top1' in k for k in r)]
    if not metrics:
        raise SystemExit(f'no validation top-1 recorded under {work_dir}')
    return metrics[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument('--fp32', action='store_true',
                        help='train in float32 even where bf16 autocast '
                        'would run')
    parser.add_argument('--pretrain-epochs', type=int, default=30)
    parser.add_argument('--finetune-epochs', type=int, default=10)
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    amp = amp_flags(args.fp32)
    start = time.time()

    print('[1/5] MAE pretraining on the digits (train split)')
    pre_dir = osp.join(work, 'pretrain')
    run([py, 'tools/train.py', PRETRAIN, '--work-dir', pre_dir, *amp,
         '--cfg-options', *epochs_options(args.pretrain_epochs)],
        osp.join(work, 'pretrain.log'),
        LogProgress('  pretrain', args.pretrain_epochs))
    with open(osp.join(pre_dir, 'last_checkpoint')) as f:
        pre_ckpt = f.read().strip()

    print('[2/5] reconstruction pictures of held-out digits (val split)')
    pictures = osp.join(work, 'pictures')
    log = run([py, 'tools/visualize_mae.py', pre_ckpt,
               *write_digits(osp.join(pictures, 'digits')), '--out',
               pictures], osp.join(work, 'visualize.log'))
    with open(log) as f:
        picture = [ln.strip() for ln in f if ln.strip().endswith('.png')][-1]
    print(f'  {picture}')

    print('[3/5] convert the pretrain checkpoint to a timm-layout backbone')
    backbone = osp.join(work, 'mae_backbone.pth')
    run([py, 'tools/convert_checkpoint.py', pre_ckpt, backbone, '--to',
         'timm'], osp.join(work, 'convert.log'))

    results = {}
    for step, (name, config, init) in enumerate(
            [('MAE-pretrained', FINETUNE, backbone),
             ('from scratch', SCRATCH, None)], start=4):
        print(f'[{step}/5] finetune {name}, validated on the held-out '
              'digits (val split) after every epoch')
        tag = 'finetune' if init else 'scratch'
        ft_dir = osp.join(work, tag)
        opts = epochs_options(args.finetune_epochs)
        if init:
            opts.append(f'model.backbone.init_cfg.checkpoint={init}')
        run([py, 'tools/train.py', config, '--work-dir', ft_dir, *amp,
             '--cfg-options', *opts], osp.join(work, f'{tag}.log'),
            LogProgress(f'  {tag}', args.finetune_epochs))
        results[name] = last_validation(ft_dir)

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
    print(f'\nReconstructions (original | masked | reconstruction | '
          f'visible pasted back): {picture}')
    print(f'Logs: {work}/*.log; checkpoints under {work}/; '
          f'results: {osp.join(work, "results.json")}')


if __name__ == '__main__':
    main()
