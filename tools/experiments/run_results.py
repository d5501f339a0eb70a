#!/usr/bin/env python
"""Run the experiments behind docs/results.md and collect their numbers.

    python tools/experiments/run_results.py
        [--grid cifar10|lite-study|vit-bert|digits-smoke] [--only NAME ...]
        [--jobs N]
        [--work-dir work_dirs/results] [--out FILE] [--seeds 0 1] [--list]

Every experiment is a chain of steps; every step is one ``tools/train.py``
command (pretrain or finetune; a kNN step runs ``tools/knn_eval.py`` on a
checkpoint) with its config and ``--cfg-options``; the steps themselves
are data, in ``results_grid.py`` (which names every grid; the study and
the ViT-BERT ablation have files of their own); this file runs them. The
exact command, its wall-clock and its numbers go into the results JSON, so
each cell of the page names what produced it. A step whose work dir already
holds a finished run (``step.json`` written after a clean exit) is not run
again: the script can be stopped and restarted, and steps can be added.
Stopping it (Ctrl-C, SIGTERM) stops its trainings; a rerun resumes them.
Invocations side by side share the work: a step another live invocation
holds (``step_claims.py``) is waited for, not run twice.

Data: the CIFAR-10 dev archive of the shared data folder
(``$EASYMAE_SHARED_DATA``, by default beside the checkout) is unpacked
once into ``--data-cache`` (10,000 train / 2,000 val JPEGs,
verified by count and archive checksum). ``--grid digits-smoke`` uses the
embedded digits and a tiny ViT instead, for the test.
"""
import argparse
import fnmatch
import json
import os
import os.path as osp
import shlex
import shutil
import signal
import subprocess
import sys
import time

import step_claims
from cifar10_dev import (  # noqa: F401  (DEV_TAR, count_images: tests)
    DEV_TAR,
    count_images,
    ensure_cifar10_dev,
)
from results_grid import GRIDS
from results_record import (  # noqa: F401  (summarise, write_results: tests)
    load_done,
    machine,
    read_results,
    summarise,
    write_results,
)
from wikitext_vocab import ensure_vocab

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def data_opts(step, data_root):
    if data_root is None or step.data == 'own':
        return []
    if step.kind == 'knn':
        return [f'knn_eval.{loader}_dataloader.dataset.data_source.root='
                f'{data_root}/{split}'
                for loader, split in (('train', 'train'), ('val', 'val'))]
    source = 'train_dataloader.dataset.data_source'
    if step.captions:
        source += '.data_source'
    opts = [f'{source}.root={data_root}/train']
    if step.kind == 'finetune' or step.captions:
        opts += [f'val_dataloader.dataset.data_source.root={data_root}/val',
                 f'test_dataloader.dataset.data_source.root={data_root}/val']
    return opts


# ------------------------------------------------------------- the runs --

def final_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def snapshot(work_root, name, epoch):
    return osp.join(work_root, 'snapshots', f'{name}_epoch_{epoch}.pth')


def take_snapshot(work_root, step):
    """Copy the pretrain's epoch-N checkpoint aside as soon as it exists
    (before checkpoint rotation removes it); True once the copy is there."""
    dst = snapshot(work_root, step.init_from, step.init_epoch)
    if osp.isfile(dst):
        return True
    src = osp.join(work_root, step.init_from, f'epoch_{step.init_epoch}.pth')
    if not osp.isfile(src):  # the checkpoint hook renames complete files
        return False
    os.makedirs(osp.dirname(dst), exist_ok=True)
    try:
        shutil.copyfile(src, dst + '.tmp')
    except FileNotFoundError:  # rotated away while copying
        return False
    os.replace(dst + '.tmp', dst)
    return True


def command(step, work_root, data_root, amp):
    opts = list(step.opts) + data_opts(step, data_root)
    if step.init_from and step.init_epoch:
        ckpt = snapshot(work_root, step.init_from, step.init_epoch)
        opts.append(f'{step.init_key}.checkpoint={ckpt}')
    elif step.init_from:
        ckpt = final_checkpoint(osp.join(work_root, step.init_from))
        opts.append(f'{step.init_key}.checkpoint={ckpt}')
    for key, name in step.also_from:
        ckpt = final_checkpoint(osp.join(work_root, name))
        opts.insert(0, f'{key}.checkpoint={ckpt}')
    work_dir = osp.join(work_root, step.name)
    if step.kind == 'knn':  # frozen features: the checkpoint as it is
        ckpt = opts.pop().split('=', 1)[1]
        cmd = ['tools/knn_eval.py', step.config, ckpt]
        if step.prefix:
            cmd += ['--prefix', step.prefix]
        return cmd + (['--cfg-options', *opts] if opts else [])
    cmd = ['tools/train.py', step.config, '--work-dir', work_dir]
    if amp:
        cmd.append('--amp')
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')  # a stopped run goes on where it stopped
    return cmd + (['--cfg-options', *opts] if opts else [])


def launch(step, cmd, work_dir, threads):
    os.makedirs(work_dir, exist_ok=True)
    # the command, before it runs: a run stopped midway is still on record
    with open(osp.join(work_dir, 'command.txt'), 'w') as f:
        f.write('python ' + shlex.join(cmd) + '\n')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    log = open(osp.join(work_dir, 'stdout.log'), 'w')
    proc = subprocess.Popen([sys.executable, *cmd], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, log, time.time()


def finish(step, cmd, work_dir, started, threads, returncode):
    record = {'command': 'python ' + shlex.join(cmd),
              'config': step.config, 'kind': step.kind,
              'group': step.group, 'label': step.label, 'meta': step.meta,
              'init_from': step.init_from, 'threads': threads,
              'wall_s': round(time.time() - started, 1),
              'started': time.strftime('%Y-%m-%d %H:%M:%S',
                                       time.gmtime(started)) + ' UTC',
              'machine': machine(), 'returncode': returncode}
    if returncode == 0:
        record.update(summarise(step, work_dir))
        tmp = osp.join(work_dir, 'step.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=1)
        os.replace(tmp, osp.join(work_dir, 'step.json'))
    return record


def select(steps, patterns):
    """Steps whose names match, plus the pretrain steps they need."""
    if not patterns:
        return steps
    by_name = {s.name: s for s in steps}
    keep = {s.name for s in steps
            if any(fnmatch.fnmatch(s.name, p) for p in patterns)}
    if not keep:
        raise SystemExit(f'--only {patterns} matches no step; --list shows '
                         'them')
    while True:  # the steps they need, and what those need
        more = {n for k in keep for n in needs(by_name[k])} - keep
        if not more:
            return [s for s in steps if s.name in keep]
        keep |= more


def needs(step, snapshots=False):
    """The steps whose final checkpoints this step reads (with
    ``snapshots``, also the one whose epoch-N snapshot it reads)."""
    first = [step.init_from] if step.init_from and (
        snapshots or not step.init_epoch) else []
    return first + [name for _, name in step.also_from]


def stop_on_signals():
    """SIGTERM / SIGINT end the invocation through ``run_grid``'s cleanup
    (its trainings stopped, claims released) instead of leaving trainings
    behind that nobody records."""
    def stop(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def run_grid(steps, work_root, data_root, jobs, amp, out, grid, all_steps,
             threads=None):
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    running = []
    try:
        return _run_grid(steps, work_root, data_root, jobs, amp, out, grid,
                         all_steps, threads, running)
    finally:
        for s, cmd, wd, proc, log, started in running:  # stopped early
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            step_claims.release(wd)
            print(f'[stopped] {s.name}: a rerun resumes it', flush=True)
        if running:
            write_results(out, all_steps, work_root, grid)


def _run_grid(steps, work_root, data_root, jobs, amp, out, grid, all_steps,
              threads, running):
    results, pending, failed, elsewhere = {}, list(steps), [], set()
    for s in steps:
        done = load_done(osp.join(work_root, s.name))
        if done is not None:
            results[s.name] = done
    pending = [s for s in steps if s.name not in results]
    while pending or running:
        for s in list(pending):  # finished by another invocation
            done = load_done(osp.join(work_root, s.name))
            if done is not None and s.name in elsewhere:
                results[s.name] = done
                pending.remove(s)
                print(f'[done]  {s.name} (by another invocation)',
                      flush=True)
        for s in list(pending):
            if len(running) >= jobs:
                break
            if s.init_epoch and take_snapshot(work_root, s):
                pass  # an earlier snapshot of a pretrain: ready already
            elif s.init_epoch and s.init_from in results:
                pending.remove(s)  # finished, and its epoch is rotated away
                failed.append(s.name)
                print(f'[FAILED] {s.name}: {s.init_from} kept no '
                      f'epoch_{s.init_epoch}.pth', flush=True)
                continue
            elif any(n not in results for n in needs(s, snapshots=True)):
                if any(n in failed for n in needs(s, snapshots=True)):
                    pending.remove(s)
                    failed.append(s.name)
                continue
            wd = osp.join(work_root, s.name)
            if not step_claims.claim(wd):
                if s.name not in elsewhere:
                    elsewhere.add(s.name)
                    print(f'[wait]  {s.name}: pid '
                          f'{step_claims.holder(wd)} runs it', flush=True)
                continue
            if load_done(wd) is not None:  # finished just before our claim
                step_claims.release(wd)
                elsewhere.add(s.name)
                continue
            cmd = command(s, work_root, data_root, amp)
            print(f'[start] {s.name}: python {shlex.join(cmd)}', flush=True)
            running.append((s, cmd, wd) + launch(s, cmd, wd, threads))
            step_claims.add_child(wd, running[-1][3].pid)
            pending.remove(s)
        time.sleep(1)
        for item in list(running):
            s, cmd, wd, proc, log, started = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            rec = finish(s, cmd, wd, started, threads, proc.returncode)
            step_claims.release(wd)
            if proc.returncode == 0:
                results[s.name] = rec
                metric = (f"top-1 {rec['top1']:.2f}" if 'top1' in rec
                          else f"loss {rec['final_loss']:.4f}")
                print(f"[done]  {s.name}: {metric}, {rec['wall_s']:.0f} s",
                      flush=True)
            else:
                failed.append(s.name)
                print(f'[FAILED] {s.name} (exit {proc.returncode}); log: '
                      f'{osp.join(wd, "stdout.log")}', flush=True)
            write_results(out, all_steps, work_root, grid)
    write_results(out, all_steps, work_root, grid)
    return results, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--grid', choices=sorted(GRIDS), default='cifar10')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help='run these steps (shell patterns) and the '
                        'pretrain steps they need')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs in parallel (each gets cores / jobs '
                        'threads)')
    parser.add_argument('--threads', type=int,
                        help='threads per run (default: cores / jobs); two '
                        'invocations side by side each take --threads 1')
    parser.add_argument('--no-amp', dest='amp', action='store_false',
                        help='fp32 instead of bf16 autocast (the default '
                        'where the machine has bf16 matrix units)')
    parser.add_argument('--work-dir', default='work_dirs/results')
    parser.add_argument('--data-cache',
                        default=osp.expanduser('~/.cache/easymae'))
    parser.add_argument('--out', default=None,
                        help='results JSON (default: docs/results/'
                        'results.json; lite_study.json, vit_bert.json for '
                        'those grids)')
    parser.add_argument('--collect', action='store_true',
                        help='only gather the finished steps into --out')
    parser.add_argument('--list', action='store_true',
                        help='print the steps and exit')
    args = parser.parse_args(argv)
    all_steps = GRIDS[args.grid](args.seeds)
    steps = select(all_steps, args.only)
    if args.list:
        for s in steps:
            after = f' (after {s.init_from})' if s.init_from else ''
            print(f'{s.name:40s} {s.kind:9s} {s.config}{after}')
        return 0
    args.out = args.out or {'lite-study': 'docs/results/lite_study.json',
                            'vit-bert': 'docs/results/vit_bert.json'}.get(
                                args.grid, 'docs/results/results.json')
    # paths relative to the repo (the commands run there) read better
    work_root = osp.join(REPO, args.work_dir)
    if not osp.relpath(work_root, REPO).startswith('..'):
        work_root = osp.relpath(work_root, REPO)
    out = osp.join(REPO, args.out)
    read_results(out, args.grid)  # another grid's file: refused up front
    if args.collect:
        write_results(out, all_steps, work_root, args.grid)
        print(f'results: {out}')
        return 0
    if args.amp:
        sys.path.insert(0, REPO)
        from easymae.engine.precision import bf16_problem_here
        problem = bf16_problem_here()
        if problem:
            print(f'training in float32: {problem}')
            args.amp = False
    data_root = (ensure_cifar10_dev(args.data_cache)
                 if args.grid in ('cifar10', 'lite-study') else None)
    if args.grid == 'vit-bert':
        ensure_vocab()
    stop_on_signals()
    _, failed = run_grid(steps, work_root, data_root, args.jobs, args.amp,
                         out, args.grid, all_steps, args.threads)
    print(f'results: {out}')
    if failed:
        print(f'failed: {", ".join(failed)}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
