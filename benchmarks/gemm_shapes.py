"""The matrix multiplies of one training step, each timed alone against the
square-matmul peak.

Two questions that the utilisation figure of ``train_step.py`` cannot
answer by itself: is the square ``mm`` peak a fair yardstick for this
model's GEMMs (do its shapes run as fast)? And how much of the step would
its GEMMs take if nothing else ran (the rest is attention kernels,
elementwise work, the optimizer)?

    python benchmarks/gemm_shapes.py --model mae --arch vit-base --batch 8 \
        --threads 2 [--amp bf16]

Takes ``train_step.py``'s options and builds the same model and batch. The
``mm`` / ``addmm`` / ``bmm`` / ``baddbmm`` calls of one step are recorded
with their sizes, strides and dtype (after autocast), then each distinct
call is replayed alone on random data of the same layout. Fused attention
kernels are not GEMMs here and land in the rest. Ends with one JSON line.
"""
import logging
import statistics
import sys
import time
from collections import Counter

import torch
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch.utils._python_dispatch import TorchDispatchMode

import train_step as ts
from report import emit

aten = torch.ops.aten
GEMMS = {aten.mm.default: 'mm', aten.addmm.default: 'addmm',
         aten.bmm.default: 'bmm', aten.baddbmm.default: 'baddbmm'}


def _layout(t: torch.Tensor):
    return tuple(t.shape), tuple(t.stride()), t.dtype


class GemmRecorder(TorchDispatchMode):
    """Counts each distinct GEMM call: (op, layouts of its tensor args)."""

    def __init__(self):
        super().__init__()
        self.calls = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in GEMMS:
            tensors = tuple(_layout(a) for a in args
                            if isinstance(a, torch.Tensor))
            self.calls[(func, tensors)] += 1
        return func(*args, **(kwargs or {}))


def gemm_flops(func, layouts) -> int:
    """2*m*k*n (times the batch for bmm); the addends of addmm are free."""
    a, b = layouts[-2][0], layouts[-1][0]
    batch = a[0] if GEMMS[func] in ('bmm', 'baddbmm') else 1
    return 2 * batch * a[-2] * a[-1] * b[-1]


def replay(func, layouts, device, min_s: float, repeats: int = 3):
    """Seconds per call of ``func`` on fresh tensors laid out alike."""
    args = []
    for shape, stride, dtype in layouts:
        # one storage as large as the layout reaches (strides may overlap)
        size = 1 + sum((n - 1) * st for n, st in zip(shape, stride))
        store = torch.randn(size, device=device).to(dtype)
        args.append(store.as_strided(shape, stride))
    func(*args)  # warm-up
    ts._sync(device)
    t0 = time.perf_counter()
    func(*args)
    ts._sync(device)
    n = max(1, int(min_s / max(time.perf_counter() - t0, 1e-6)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            func(*args)
        ts._sync(device)
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = ts.build_parser()
    parser.add_argument('--gemm-seconds', type=float, default=0.2,
                        help='time each distinct GEMM for about this long '
                             'per repeat')
    args = ts.variant_args(parser, argv, '')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compile:
        raise SystemExit('--compile: a compiled step hides its GEMMs from '
                         'the recorder; time it with train_step.py')
    init_default_scope('easymae')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    ts.register_cpu_attention_flops()
    device = torch.device(args.device)

    torch.manual_seed(0)
    bench = ts.Bench(args, 'as given')
    bench.warmup()
    bench.count_flops()
    recorder = GemmRecorder()
    with recorder:
        bench.step()
    peak = ts.MatmulPeak(args.device, args.peak_size or
                         (8192 if device.type == 'cuda' else 4096),
                         [args.amp or 'fp32'])
    # the step, the peak and the GEMMs alone, twice over, interleaved
    rows = {}
    for _ in range(2):
        bench.time_repeat()
        peak.measure()
        for func, layouts in recorder.calls:
            rows.setdefault((func, layouts), []).append(
                replay(func, layouts, device, args.gemm_seconds))
    peak_flops = peak.peaks()[args.amp or 'fp32']
    step_s = statistics.median(bench.times)

    table = []
    for (func, layouts), secs in rows.items():
        count = recorder.calls[(func, layouts)]
        sec = statistics.median(secs)
        flops = gemm_flops(func, layouts)
        table.append(dict(
            op=GEMMS[func], shapes=[list(s) for s, _, _ in layouts],
            dtype=str(layouts[-1][2]).replace('torch.', ''), calls=count,
            flops=flops, s_per_call=sec, rate_vs_peak=flops / sec /
            peak_flops))
    table.sort(key=lambda r: -r['s_per_call'] * r['calls'])
    gemm_s = sum(r['s_per_call'] * r['calls'] for r in table)
    gemm_flops_step = sum(r['flops'] * r['calls'] for r in table)
    step_flops = bench.flops_per_img * args.batch

    print(f"\n{'op':8s} {'shapes':44s} {'calls':>5s} {'ms/step':>8s} "
          f"{'vs peak':>7s}")
    for r in table:
        shapes = ' x '.join('x'.join(map(str, s)) for s in r['shapes'])
        print(f"{r['op']:8s} {shapes[:44]:44s} {r['calls']:5d} "
              f"{1e3 * r['s_per_call'] * r['calls']:8.1f} "
              f"{100 * r['rate_vs_peak']:6.0f}%")
    summary = dict(
        step_s=step_s, gemm_alone_s=gemm_s,
        gemm_share_of_step_time=gemm_s / step_s,
        gemm_share_of_step_flops=gemm_flops_step / step_flops,
        gemm_rate_vs_peak=gemm_flops_step / gemm_s / peak_flops,
        step_share_of_peak=step_flops / step_s / peak_flops)
    pct = {k: 100 * v for k, v in summary.items()}
    print(f"\nstep {1e3 * step_s:.0f} ms; its GEMMs alone "
          f"{1e3 * gemm_s:.0f} ms ({pct['gemm_share_of_step_time']:.0f}% "
          f"of the step), {pct['gemm_share_of_step_flops']:.0f}% of its "
          f"FLOPs, at {pct['gemm_rate_vs_peak']:.0f}% of the square-mm "
          f"peak ({peak_flops / 1e9:.0f} GFLOP/s)")
    print(f"step at {pct['step_share_of_peak']:.1f}% of the peak")
    emit(dict(summary, args=' '.join(argv), gemms=table,
              matmul_peak_flops=peak_flops, img_per_s=args.batch / step_s,
              flops_per_img=bench.flops_per_img,
              machine=dict(torch=torch.__version__,
                           threads=torch.get_num_threads())),
         args.json_out)


if __name__ == '__main__':
    main()
