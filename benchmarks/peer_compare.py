"""easymae vs a peer implementation's MAE, same model and batch, interleaved.

The peer (mmpretrain 1.2.0) lives in its own throwaway virtual environment,
never in ours, so each side runs in a worker process of its own Python; the
driver asks them in turn for timed steps (only one computes at a time) and
reports medians and ratios, fp32 and bf16 autocast.

    python benchmarks/peer_compare.py --peer-python /tmp/peer_venv/bin/python

Setting up the peer venv: see benchmarks/README.md. The last line printed
is one JSON object.
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

from report import emit

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TAG = '@@bench '  # marks protocol lines among the libraries' log output


# ------------------------------------------------------------- workers
def _ours_model(dtype):
    sys.path.insert(0, REPO)
    import easymae  # noqa: F401
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from easymae.registry import MODELS
    init_default_scope('easymae')
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/selfsup/mae/mae_vit-base-p16_8xb64-1600e_in1k.py'))
    model = MODELS.build(cfg.model)
    if dtype == 'bf16':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.device_type = 'cpu'
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _peer_model(dtype):
    import torch
    import mmpretrain
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg_dir = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs')
    cfg = Config.fromfile(osp.join(
        cfg_dir, 'mae', 'mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4,
                              betas=(0.9, 0.95), weight_decay=0.05)

    class CpuBf16Wrapper(OptimWrapper):
        # mmengine's AmpOptimWrapper refuses the CPU; same autocast here
        def optim_context(self, model):
            import contextlib
            stack = contextlib.ExitStack()
            stack.enter_context(super().optim_context(model))
            stack.enter_context(torch.autocast('cpu', dtype=torch.bfloat16))
            return stack

    wrapper = CpuBf16Wrapper if dtype == 'bf16' else OptimWrapper
    return model, wrapper(optimizer=optim)


def worker(side: str, batch: int, threads: int):
    """Build fp32 and bf16 models, then answer 'dtype steps' lines with the
    seconds per step."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    build = _ours_model if side == 'ours' else _peer_model
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (batch, 3, 224, 224), dtype=torch.uint8,
                         generator=g)
    runs = {}
    for dtype in ('fp32', 'bf16'):
        model, ow = build(dtype)
        model.train()
        if side == 'ours':
            data = dict(inputs=imgs, data_samples={})
        else:
            from mmpretrain.structures import DataSample
            data = dict(inputs=imgs,
                        data_samples=[DataSample() for _ in range(batch)])
        runs[dtype] = (model, ow, data)
    print(TAG + 'ready', flush=True)
    for line in sys.stdin:
        dtype, steps = line.split()
        model, ow, data = runs[dtype]
        t0 = time.perf_counter()
        for _ in range(int(steps)):
            model.train_step(data, ow)
        print(TAG + str((time.perf_counter() - t0) / int(steps)), flush=True)


# -------------------------------------------------------------- driver
def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--peer-python', default='/tmp/peer_venv/bin/python')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--steps', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--json-out', default=None)
    p.add_argument('--worker', choices=['ours', 'peer'], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.batch, args.threads)
    if not osp.exists(args.peer_python):
        raise SystemExit(f'--peer-python {args.peer_python!r} not found; '
                         'set up the peer venv (benchmarks/README.md)')

    procs = {}
    for side, py in (('ours', sys.executable), ('peer', args.peer_python)):
        procs[side] = subprocess.Popen(
            [py, osp.abspath(__file__), '--worker', side,
             '--batch', str(args.batch), '--threads', str(args.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    def reply(side):
        for line in procs[side].stdout:
            if line.startswith(TAG):
                return line[len(TAG):].strip()
        raise SystemExit(f'the {side} worker died')

    for side in procs:
        if reply(side) != 'ready':
            raise SystemExit(f'the {side} worker failed to start')

    def ask(side, dtype, steps):
        proc = procs[side]
        proc.stdin.write(f'{dtype} {steps}\n')
        proc.stdin.flush()
        return float(reply(side))

    keys = [(s, d) for d in ('fp32', 'bf16') for s in ('ours', 'peer')]
    for side, dtype in keys:
        ask(side, dtype, args.warmup)
    times = {k: [] for k in keys}
    for r in range(args.repeats):
        for side, dtype in keys:
            times[(side, dtype)].append(ask(side, dtype, args.steps))
        print(f'round {r + 1}/{args.repeats}: ' + ', '.join(
            f'{s} {d} {args.batch / times[(s, d)][-1]:.2f} img/s'
            for s, d in keys), flush=True)
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()

    ips = {f'{s}_{d}': args.batch / statistics.median(times[(s, d)])
           for s, d in keys}
    ratio = {d: ips[f'ours_{d}'] / ips[f'peer_{d}'] for d in ('fp32', 'bf16')}
    # per-round ratios show how much the shared machine's noise moves them
    per_round = {d: [tp / to for to, tp in zip(times[('ours', d)],
                                                times[('peer', d)])]
                 for d in ('fp32', 'bf16')}
    print()
    for d in ('fp32', 'bf16'):
        print(f"MAE ViT-B/16 batch {args.batch} {d}: ours "
              f"{ips[f'ours_{d}']:.2f} img/s, mmpretrain "
              f"{ips[f'peer_{d}']:.2f} img/s, ratio {ratio[d]:.2f}x "
              f"(per round {min(per_round[d]):.2f}-"
              f"{max(per_round[d]):.2f})")
    out = dict(img_per_s=ips['ours_bf16'], results=ips, ratio=ratio,
               per_round_ratio=per_round, batch=args.batch,
               threads=args.threads)
    emit(out, args.json_out)


if __name__ == '__main__':
    main()
