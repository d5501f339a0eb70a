#!/usr/bin/env python
"""Per-rank memory and step throughput of MAE pretraining under DDP and
FSDP2, N processes on this machine (gloo on the CPU, nccl on GPUs).

    python benchmarks/fsdp_memory.py --arch base --nproc 2 --global-batch 8 \
        --steps 3 --json-out benchmarks/results/cpu_fsdp_memory_vit-base.json

For each mode, a torchrun group of ``--nproc`` workers builds the MAE of
``configs/selfsup/mae/mae_vit-{arch}-p16_8xb64-1600e_in1k.py`` (224 px),
wraps it in DDP or shards it with easymae's ``fully_shard_model`` (per
block, then the root; fp32, as the DDP run), and trains ``--steps`` AdamW
steps on random images at the same global batch. Each rank reports:

* model state: bytes of its parameters, gradients (after backward) and
  AdamW state (after the step), counting only the local shard of a
  sharded tensor; the target is FSDP <= DDP / N + 10%;
* peak RSS of the process (``ru_maxrss``: model state, activations,
  communication buffers and the Python/torch runtime together);
* seconds per step after ``--warmup`` steps (median), and images/s.

Prints a table (with the CPU model from ``lscpu``) and one JSON line;
``--json-out`` writes it, with the load average before and after.

DDP's model state per rank does not depend on N (every rank holds a whole
replica), so FSDP on more processes can be compared with DDP measured on
fewer: ``--modes fsdp --ddp-reference RESULT.json`` takes the DDP row of
an earlier result (same arch) instead of running DDP again, e.g.

    python benchmarks/fsdp_memory.py --arch large --nproc 4 \
        --global-batch 4 --modes fsdp \
        --ddp-reference benchmarks/results/cpu_fsdp_memory_vit-large.json
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--arch', default='base', choices=('base', 'large'))
    p.add_argument('--nproc', type=int, default=2)
    p.add_argument('--global-batch', type=int, default=8)
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--modes', nargs='+', default=['ddp', 'fsdp'],
                   choices=('ddp', 'fsdp'))
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads per process (CPU)')
    p.add_argument('--grad-bucket-view', action='store_true',
                   help="DDP's gradient_as_bucket_view=True: gradients are "
                   'views into the all-reduce buckets instead of a second '
                   'copy (same model state, a smaller peak RSS)')
    p.add_argument('--ddp-reference', default=None,
                   help='JSON result of an earlier run whose DDP row the '
                   'FSDP row is compared with (DDP not run again)')
    p.add_argument('--json-out', default=None)
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    p.add_argument('--report', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def cpu_model() -> str:
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ''
    for line in out.splitlines():
        if line.startswith('Model name:'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or platform.machine()


def worker(args) -> None:
    import torch
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import easymae  # noqa: F401  (registers every component)
    from easymae.engine.fsdp import fully_shard_model, local_state_bytes
    from easymae.registry import MODELS

    torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
    dist.init_process_group('nccl' if cuda else 'gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device('cuda' if cuda else 'cpu')
    init_default_scope('easymae')
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'selfsup', 'mae',
        f'mae_vit-{args.arch}-p16_8xb64-1600e_in1k.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    if args.worker == 'ddp':
        from torch.nn.parallel import DistributedDataParallel as DDP
        model = DDP(model, device_ids=[device.index] if cuda else None,
                    broadcast_buffers=False,
                    gradient_as_bucket_view=args.grad_bucket_view)
        inner = model.module
    else:
        model = fully_shard_model(model)
        inner = model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.5e-4,
                                  betas=(0.9, 0.95), weight_decay=0.05)
    local = args.global_batch // world
    images = torch.randn(local, 3, 224, 224, device=device,
                         generator=torch.Generator(device).manual_seed(rank))
    times, counts = [], {}
    for step in range(args.warmup + args.steps):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(images, None, mode='loss')['loss']
        loss.backward()
        if step == 0:
            counts = local_state_bytes(inner)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        dist.barrier()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    counts['optimizer'] = local_state_bytes(inner, optimizer)['optimizer']
    counts['total'] = counts['params'] + counts['grads'] + \
        counts['optimizer']
    row = dict(rank=rank, **counts,
               peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               * 1024, step_s=statistics.median(times),
               loss=float(loss.detach()))
    if cuda:
        row['peak_cuda'] = torch.cuda.max_memory_allocated()
    rows = [None] * world
    dist.all_gather_object(rows, row)
    if rank == 0:
        with open(args.report, 'w') as f:
            json.dump(rows, f)
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_mode(args, mode: str) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        report = osp.join(tmp, 'rows.json')
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               f'--nproc_per_node={args.nproc}', '--master_addr=127.0.0.1',
               f'--master_port={free_port()}', osp.abspath(__file__),
               '--worker', mode,
               '--report', report, '--arch', args.arch,
               '--global-batch', str(args.global_batch),
               '--steps', str(args.steps), '--warmup', str(args.warmup),
               '--threads', str(args.threads)] + (
                   ['--grad-bucket-view'] if args.grad_bucket_view else [])
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                   PYTHONPATH=REPO)
        subprocess.run(cmd, check=True, env=env, cwd=REPO)
        with open(report) as f:
            return json.load(f)


def read_ddp_reference(args) -> dict:
    """The DDP row of an earlier result of this script, checked to be of
    the same model."""
    with open(args.ddp_reference) as f:
        reference = json.load(f)
    if 'ddp' not in reference.get('summary', {}):
        raise ValueError(f'--ddp-reference {args.ddp_reference}: no DDP row '
                         "in its 'summary' (run it with --modes ddp)")
    if reference.get('arch') != args.arch:
        raise ValueError(f'--ddp-reference {args.ddp_reference}: measured '
                         f'ViT-{reference.get("arch")}, this run is '
                         f'--arch {args.arch}')
    reference['summary'] = reference['summary']['ddp']
    return reference


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    import torch

    from report import emit
    reference = read_ddp_reference(args) if args.ddp_reference else None
    load_before = os.getloadavg()
    results = {mode: run_mode(args, mode) for mode in args.modes}
    load_after = os.getloadavg()
    gib = 2 ** 30
    lines = [f'MAE ViT-{args.arch[0].upper()}/16, 224 px, {args.nproc} '
             f'processes, global batch {args.global_batch}, '
             f'{args.steps} timed steps; CPU {cpu_model()}, torch '
             f'{torch.__version__}',
             f'{"mode":6} {"params":>8} {"grads":>8} {"AdamW":>8} '
             f'{"state":>8} {"peak RSS":>9} {"s/step":>7} {"img/s":>6}'
             '   (GiB per rank, max over ranks)']
    summary = {}
    for mode, rows in results.items():
        worst = {k: max(r[k] for r in rows) for k in
                 ('params', 'grads', 'optimizer', 'total', 'peak_rss',
                  'step_s')}
        summary[mode] = dict(worst, img_s=args.global_batch /
                             worst['step_s'])
        lines.append(f'{mode:6} {worst["params"] / gib:8.3f} '
                     f'{worst["grads"] / gib:8.3f} '
                     f'{worst["optimizer"] / gib:8.3f} '
                     f'{worst["total"] / gib:8.3f} '
                     f'{worst["peak_rss"] / gib:9.2f} '
                     f'{worst["step_s"]:7.2f} '
                     f'{summary[mode]["img_s"]:6.2f}')
    if 'fsdp' in summary and ('ddp' in summary or reference):
        d, s = summary.get('ddp') or reference['summary'], summary['fsdp']
        ratio = s['total'] / d['total']
        target = 1 / args.nproc * 1.1
        against = 'DDP' if 'ddp' in summary else (
            f'DDP on {reference["nproc"]} processes ({args.ddp_reference})')
        lines.append(f'FSDP model state per rank = {ratio:.3f} x {against} '
                     f'(target <= {target:.3f}: '
                     f'{"met" if ratio <= target else "MISSED"}); peak RSS '
                     f'{s["peak_rss"] / d["peak_rss"]:.2f} x')
        if 'ddp' in summary:
            lines.append(f'throughput {s["img_s"] / d["img_s"]:.2f} x DDP')
        summary['fsdp_over_ddp_state'] = ratio
        summary['target'] = target
    print('\n'.join(lines))
    emit(dict(benchmark='fsdp_memory', arch=args.arch, nproc=args.nproc,
              global_batch=args.global_batch, steps=args.steps,
              warmup=args.warmup, threads=args.threads, cpu=cpu_model(),
              grad_bucket_view=args.grad_bucket_view,
              torch=torch.__version__, summary=summary, ranks=results,
              load_avg_before=load_before, load_avg_after=load_after,
              ddp_reference=args.ddp_reference,
              command='python benchmarks/fsdp_memory.py ' +
              ' '.join(shlex.quote(a) for a in (argv or sys.argv[1:]))),
         args.json_out)


if __name__ == '__main__':
    main()
