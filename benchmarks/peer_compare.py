"""easymae vs a peer implementation, same model and batch, interleaved.

The peer (mmpretrain 1.2.0) lives in its own throwaway virtual environment,
never in ours, so each side runs in a worker process of its own Python; the
driver asks them in turn for timed steps (only one computes at a time) and
reports medians and ratios, fp32 and bf16 autocast.

    python benchmarks/peer_compare.py --peer-python /tmp/peer_venv/bin/python
    # MoCo v3 ViT-S/16 (two 224 px views, momentum update in the step),
    # with the matmul peak measured between the rounds
    python benchmarks/peer_compare.py --model mocov3 --batch 16

``--model mae``: MAE ViT-B/16 (the default). ``--model mocov3``: MoCo v3
ViT-S/16 as both recipes have it (12 layers, width 384, 12 heads, frozen
random patch projection; projector 3 x 4096 -> 256, predictor 2 x 4096 ->
256, temperature 0.2, momentum 0.99 on a cosine), BatchNorm in place of the
recipes' SyncBN on both sides (one process), the momentum schedule read
from the same iteration / max_iters posted in mmengine's MessageHub.
Each worker counts its step's FLOPs (``FlopCounterMode``) and the driver
measures the square-matmul peak once per round (``train_step.MatmulPeak``,
``--peak-size``, 0 skips it), so both sides get a share of the peak.

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
# each side's config for each model (ours under the repository, the peer's
# inside its installed package); ViT-S for MoCo v3, ViT-B for MAE
MODELS_ = {
    'mae': dict(
        ours='configs/selfsup/mae/mae_vit-base-p16_8xb64-1600e_in1k.py',
        peer='mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
        title='MAE ViT-B/16', views=1),
    'mocov3': dict(
        ours='configs/selfsup/mocov3/mocov3_vit-small-p16_16xb256-300e_'
             'in1k.py',
        peer='mocov3/mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py',
        title='MoCo v3 ViT-S/16', views=2),
}
# a run's length for the momentum schedules, posted as the runner would
MAX_ITERS = 100_000


def _post_progress():
    # MoCo v3's momentum on both sides follows iter / max_iters from
    # mmengine's MessageHub (the peer's CosineEMA fails without max_iters)
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 0)
    hub.update_info('max_iters', MAX_ITERS)


def _ours_model(model_name, dtype, device, cfg_options):
    sys.path.insert(0, REPO)
    from mmengine.config import Config, DictAction
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import easymae  # noqa: F401
    from easymae.registry import MODELS
    init_default_scope('easymae')
    cfg = Config.fromfile(osp.join(REPO, MODELS_[model_name]['ours']))
    if cfg_options:  # e.g. the default optimizer instead of the config's
        p = argparse.ArgumentParser()
        p.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(p.parse_args(['--o', *cfg_options]).o)
    # on the device before the optimizer: fused AdamW (the config's
    # default) needs its parameters where it runs. The config's sync_bn
    # is applied by the runner, so this model has plain BatchNorm.
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    if dtype == 'bf16':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.device_type = device
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _peer_model(model_name, dtype, device, cfg_options):
    import mmpretrain
    import torch
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg_dir = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs')
    cfg = Config.fromfile(osp.join(cfg_dir, MODELS_[model_name]['peer']))
    if model_name == 'mocov3':
        # one process: BatchNorm instead of SyncBN, as on our side
        cfg.model.neck.norm_cfg = dict(type='BN1d')
        cfg.model.head.predictor.norm_cfg = dict(type='BN1d')
    if cfg.get('data_preprocessor'):  # as mmengine's Runner passes it on
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    if model_name == 'mocov3':  # the recipe's AdamW: torch betas, wd 0.1
        optim = torch.optim.AdamW(model.parameters(), lr=1.5e-4,
                                  weight_decay=0.1)
    else:
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


def _register_cpu_attention_flops():
    # as train_step.register_cpu_attention_flops (which imports easymae,
    # absent from the peer's environment): count the CPU flash-attention
    # kernel that FlopCounterMode does not know
    import torch
    from torch.utils import flop_counter as fc
    aten = torch.ops.aten
    for name, formula in (
            ('_scaled_dot_product_flash_attention_for_cpu', fc.sdpa_flop),
            ('_scaled_dot_product_flash_attention_for_cpu_backward',
             fc.sdpa_backward_flop)):
        op = getattr(aten, name, None)
        if op is not None and op not in fc.flop_registry:
            fc.register_flop_formula(op, get_raw=True)(formula)


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
           cfg_options=None, model_name: str = 'mae',
           dtypes=('fp32', 'bf16')):
    """Build fp32 and bf16 models, then answer 'dtype steps' lines with the
    seconds per step (and, on CUDA, the peak allocated MiB); 'flops dtype'
    with the FLOPs of one step (FlopCounterMode)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    torch.set_num_threads(threads)
    _post_progress()
    _register_cpu_attention_flops()
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
    views = [torch.randint(0, 256, (batch, 3, 224, 224), dtype=torch.uint8,
                           generator=g).to(device)
             for _ in range(MODELS_[model_name]['views'])]
    imgs = views[0] if len(views) == 1 else views
    runs = {}
    for dtype in dtypes:
        model, ow = build(model_name, dtype, device, cfg_options)
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
        if dtype == 'flops':
            model, ow, data = runs[steps]
            with FlopCounterMode(display=False) as counter:
                model.train_step(data, ow)
            print(TAG + str(counter.get_total_flops()), flush=True)
            continue
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
    p.add_argument('--model', default='mae', choices=sorted(MODELS_),
                   help='mae: MAE ViT-B/16; mocov3: MoCo v3 ViT-S/16 (two '
                        'views)')
    p.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'],
                   choices=['fp32', 'bf16'],
                   help='precisions to run (bf16 = autocast); fp32 alone '
                        'on a CPU without bf16 matrix instructions, where '
                        'bf16 GEMMs are emulated')
    p.add_argument('--peak-size', type=int, default=None,
                   help='side of the square matmul timed once per round '
                        'for the peak (default 4096 on the CPU, 8192 on '
                        'CUDA); 0 skips the peak and the FLOP counts')
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
                      args.cfg_options, args.model, args.dtypes)
    peer_python = shutil.which(args.peer_python)
    if peer_python is None:
        raise SystemExit(f'--peer-python {args.peer_python!r} not found; '
                         'set up the peer venv (benchmarks/README.md)')

    procs = {}
    for side, py in (('ours', sys.executable), ('peer', peer_python)):
        cmd = [py, osp.abspath(__file__), '--worker', side,
               '--batch', str(args.batch), '--threads', str(args.threads),
               '--device', args.device, '--model', args.model,
               '--dtypes', *args.dtypes]
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

    keys = [(s, d) for d in args.dtypes for s in ('ours', 'peer')]
    for side, dtype in keys:
        ask(side, dtype, args.warmup)
    peak_size = args.peak_size
    if peak_size is None:
        peak_size = 8192 if args.device == 'cuda' else 4096
    peak, flops = None, {}
    if peak_size:
        # in the driver's process, with the workers' thread count, timed
        # between the rounds: the peak of the same minutes
        import torch

        from train_step import MatmulPeak
        torch.set_num_threads(args.threads)
        peak = MatmulPeak(args.device, peak_size, args.dtypes)
        for side, dtype in keys:  # one step each, not timed
            flops[f'{side}_{dtype}'] = ask(side, 'flops', dtype) / args.batch
    times = {k: [] for k in keys}
    for r in range(args.repeats):
        for side, dtype in keys:
            times[(side, dtype)].append(ask(side, dtype, args.steps))
        if peak:
            peak.measure()
        print(f'round {r + 1}/{args.repeats}: ' + ', '.join(
            f'{s} {d} {args.batch / times[(s, d)][-1]:.2f} img/s'
            for s, d in keys), flush=True)
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()

    ips = {f'{s}_{d}': args.batch / statistics.median(times[(s, d)])
           for s, d in keys}
    ratio = {d: ips[f'ours_{d}'] / ips[f'peer_{d}'] for d in args.dtypes}
    # per-round ratios show how much the shared machine's noise moves them
    per_round = {d: [tp / to for to, tp in zip(times[('ours', d)],
                                                times[('peer', d)])]
                 for d in args.dtypes}
    matmul_peak = peak.peaks() if peak else {}
    # achieved FLOP/s (each side's own count) over the median peak
    share = {k: flops[k] * ips[k] / matmul_peak[k.split('_')[1]]
             for k in flops if k.split('_')[1] in matmul_peak}
    title = MODELS_[args.model]['title']
    print()
    for d in args.dtypes:
        mem = (f", peak memory ours {peaks[f'ours_{d}']:.0f} MiB, mmpretrain "
               f"{peaks[f'peer_{d}']:.0f} MiB" if peaks else '')
        util = (f", {100 * share[f'ours_{d}']:.1f}% / "
                f"{100 * share[f'peer_{d}']:.1f}% of the {d} matmul peak "
                f"({matmul_peak[d] / 1e9:.0f} GFLOP/s; "
                f"{flops[f'ours_{d}'] / 1e9:.1f} / "
                f"{flops[f'peer_{d}'] / 1e9:.1f} GFLOP/img)"
                if share else '')
        print(f"{title} batch {args.batch} {d} on {args.device}: ours "
              f"{ips[f'ours_{d}']:.2f} img/s, mmpretrain "
              f"{ips[f'peer_{d}']:.2f} img/s, ratio {ratio[d]:.2f}x "
              f"(per round {min(per_round[d]):.2f}-"
              f"{max(per_round[d]):.2f}){util}{mem}")
    out = dict(img_per_s=ips[f'ours_{args.dtypes[-1]}'], results=ips,
               ratio=ratio,
               per_round_ratio=per_round, model=args.model, title=title,
               flops_per_img=flops, share_of_matmul_peak=share,
               matmul_peak_flops=matmul_peak, matmul_peak_size=peak_size,
               matmul_peak_per_round=peak.rates if peak else {},
               step_s_all={f'{s}_{d}': times[(s, d)] for s, d in keys},
               batch=args.batch, dtypes=args.dtypes,
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
