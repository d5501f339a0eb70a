"""easymae vs a peer implementation's MAE, same model and batch, interleaved.

The peer (mmpretrain 1.2.0) lives in its own throwaway virtual environment,
never in ours, so each side runs in a worker process of its own Python; the
driver asks them in turn for timed steps (only one computes at a time) and
reports medians and ratios, fp32 and bf16 autocast.

    python benchmarks/peer_compare.py --peer-python /tmp/peer_venv/bin/python

On a GPU (``--device cuda``) both workers may run the same interpreter with
different site folders: ``--peer-python python3 --peer-pythonpath
/tmp/peer_site`` (the peer's wheels, ``.whl/peer``; see gpu_suite.sh part
``peer``) while ours keeps the driver's own PYTHONPATH.

Setting up the peer venv: see benchmarks/README.md. The last line printed
is one JSON object.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import shutil
import statistics
import subprocess
import sys
import time

from report import emit

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TAG = '@@bench '  # marks protocol lines among the libraries' log output


# ------------------------------------------------------------- workers
def _ours_model(dtype, device, cfg_options):
    sys.path.insert(0, REPO)
    from mmengine.config import Config, DictAction
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import easymae  # noqa: F401
    from easymae.registry import MODELS
    init_default_scope('easymae')
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/selfsup/mae/mae_vit-base-p16_8xb64-1600e_in1k.py'))
    if cfg_options:  # e.g. the default optimizer instead of the config's
        p = argparse.ArgumentParser()
        p.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(p.parse_args(['--o', *cfg_options]).o)
    # on the device before the optimizer: fused AdamW (the config's
    # default) needs its parameters where it runs
    model = MODELS.build(cfg.model).to(device)
    if dtype == 'bf16':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.device_type = device
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _peer_model(dtype, device, cfg_options):
    import mmpretrain
    import torch
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
    model.to(device)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4,
                              betas=(0.9, 0.95), weight_decay=0.05)

    class Bf16Wrapper(OptimWrapper):
        # what ours does under --amp bf16: autocast, no loss scaling
        # (mmengine's AmpOptimWrapper refuses the CPU and adds a GradScaler)
        def optim_context(self, model):
            import contextlib
            stack = contextlib.ExitStack()
            stack.enter_context(super().optim_context(model))
            stack.enter_context(torch.autocast(device, dtype=torch.bfloat16))
            return stack

    wrapper = Bf16Wrapper if dtype == 'bf16' else OptimWrapper
    return model, wrapper(optimizer=optim)


def _versions(side):
    import torch
    names = ['mmengine'] + (['easymae'] if side == 'ours'
                            else ['mmpretrain', 'mmcv'])
    out = dict(python=sys.version.split()[0], torch=torch.__version__)
    for name in names:
        try:
            mod = __import__(name)
            out[name] = getattr(mod, '__version__', '?')
        except ImportError:
            out[name] = None
    if torch.cuda.is_available():
        out['gpu'] = torch.cuda.get_device_name()
    return out


def worker(side: str, batch: int, threads: int, device: str = 'cpu',
           cfg_options=None):
    """Build fp32 and bf16 models, then answer 'dtype steps' lines with the
    seconds per step (and, on CUDA, the peak allocated MiB)."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if device == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda: no CUDA device is available')
        torch.backends.cuda.matmul.allow_tf32 = False  # as train_step.py
        # the two workers share the GPU and each keeps its allocator's
        # cache: ViT-B batch 256 needs ~23 GB in fp32 (H100 run), so both
        # fit in 80 GB
    build = _ours_model if side == 'ours' else _peer_model
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (batch, 3, 224, 224), dtype=torch.uint8,
                         generator=g).to(device)
    runs = {}
    for dtype in ('fp32', 'bf16'):
        model, ow = build(dtype, device, cfg_options)
        model.train()
        if side == 'ours':
            data = dict(inputs=imgs, data_samples={})
        else:
            from mmpretrain.structures import DataSample
            data = dict(inputs=imgs,
                        data_samples=[DataSample() for _ in range(batch)])
        runs[dtype] = (model, ow, data)
    print(TAG + 'ready ' + json.dumps(_versions(side)), flush=True)
    cuda = device == 'cuda'
    for line in sys.stdin:
        dtype, steps = line.split()
        model, ow, data = runs[dtype]
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(int(steps)):
            model.train_step(data, ow)
        if cuda:
            torch.cuda.synchronize()
        answer = str((time.perf_counter() - t0) / int(steps))
        if cuda:  # both dtypes' models and AdamW states stay resident
            answer += f' {torch.cuda.max_memory_allocated() / 2**20:.0f}'
        print(TAG + answer, flush=True)


# -------------------------------------------------------------- driver
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--peer-python', default='/tmp/peer_venv/bin/python',
                   help="the peer worker's interpreter (a path, or a name "
                        'looked up on PATH)')
    p.add_argument('--peer-pythonpath', default=None,
                   help="PYTHONPATH of the peer worker (replaces the "
                        "driver's; default: inherit it), e.g. "
                        '/tmp/peer_site')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE',
                   help="overrides of our config, e.g. optim_wrapper."
                        "constructor=DefaultOptimWrapperConstructor "
                        "optim_wrapper.optimizer.fused=False (default: the "
                        "config's own optimizer)")
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--steps', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--json-out', default=None)
    p.add_argument('--worker', choices=['ours', 'peer'],
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.batch, args.threads, args.device,
                      args.cfg_options)
    peer_python = shutil.which(args.peer_python)
    if peer_python is None:
        raise SystemExit(f'--peer-python {args.peer_python!r} not found; '
                         'set up the peer venv (benchmarks/README.md)')

    procs = {}
    for side, py in (('ours', sys.executable), ('peer', peer_python)):
        cmd = [py, osp.abspath(__file__), '--worker', side,
               '--batch', str(args.batch), '--threads', str(args.threads),
               '--device', args.device]
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        if side == 'ours' and args.cfg_options:
            cmd += ['--cfg-options', *args.cfg_options]
        if side == 'peer' and args.peer_pythonpath is not None:
            env['PYTHONPATH'] = args.peer_pythonpath
        procs[side] = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True,
                                       env=env)
    def reply(side):
        for line in procs[side].stdout:
            if line.startswith(TAG):
                return line[len(TAG):].strip()
        raise SystemExit(f'the {side} worker died')

    sides = {}
    for side in procs:
        ready = reply(side)
        if not ready.startswith('ready'):
            raise SystemExit(f'the {side} worker failed to start')
        sides[side] = dict(json.loads(ready[len('ready'):] or '{}'),
                           executable=procs[side].args[0])
    sides['peer']['pythonpath'] = args.peer_pythonpath
    peaks = {}

    def ask(side, dtype, steps):
        proc = procs[side]
        proc.stdin.write(f'{dtype} {steps}\n')
        proc.stdin.flush()
        answer = reply(side).split()
        if len(answer) > 1:  # CUDA: peak allocated MiB during these steps
            key = f'{side}_{dtype}'
            peaks[key] = max(peaks.get(key, 0.0), float(answer[1]))
        return float(answer[0])

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
        mem = (f", peak memory ours {peaks[f'ours_{d}']:.0f} MiB, mmpretrain "
               f"{peaks[f'peer_{d}']:.0f} MiB" if peaks else '')
        print(f"MAE ViT-B/16 batch {args.batch} {d} on {args.device}: ours "
              f"{ips[f'ours_{d}']:.2f} img/s, mmpretrain "
              f"{ips[f'peer_{d}']:.2f} img/s, ratio {ratio[d]:.2f}x "
              f"(per round {min(per_round[d]):.2f}-"
              f"{max(per_round[d]):.2f}){mem}")
    out = dict(img_per_s=ips['ours_bf16'], results=ips, ratio=ratio,
               per_round_ratio=per_round, batch=args.batch,
               threads=args.threads, device=args.device,
               cfg_options=args.cfg_options, sides=sides,
               command='python benchmarks/peer_compare.py ' + ' '.join(
                   shlex.quote(a) for a in argv))
    if peaks:
        # max_memory_allocated of the worker: the fp32 and the bf16 model,
        # with their AdamW states, both stay resident in it
        out['peak_mem_mib'] = peaks
    emit(out, args.json_out)


if __name__ == '__main__':
    main()
