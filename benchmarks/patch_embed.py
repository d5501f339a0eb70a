"""Patch embedding: convolution vs reshape + one GEMM, forward + backward.

Both paths share one module's weights (``PatchEmbed(impl=...)``); the
input images need no gradient, as in training, so the backward is the
weight (and bias) gradient only. Precisions: fp32, bf16 autocast over fp32
weights, and bf16 weights (the master-weight mode). Rounds interleave the
two kernels so that load from elsewhere hits both alike.

    python benchmarks/patch_embed.py --batch 8 --img-size 224 --dim 768
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from easymae.engine.precision import describe_cpu  # noqa: E402
from easymae.models.backbones.patch_embed import PatchEmbed  # noqa: E402
from report import emit  # noqa: E402

MODES = ('fp32', 'bf16-autocast', 'bf16-weights')


def run_once(module, x, mode: str, device: str) -> float:
    module.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    with torch.autocast(device, dtype=torch.bfloat16,
                        enabled=mode == 'bf16-autocast'):
        out = module(x)
    out.float().sum().backward()
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--patch-size', type=int, default=16)
    p.add_argument('--dim', type=int, default=768)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--rounds', type=int, default=7)
    p.add_argument('--reps', type=int, default=5)
    p.add_argument('--modes', nargs='+', default=list(MODES),
                   choices=MODES)
    p.add_argument('--json-out', default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.img_size, args.img_size,
                    device=args.device)
    base = PatchEmbed(args.img_size, args.patch_size, 3, args.dim,
                      impl='conv').to(args.device)
    cases = {}
    for mode in args.modes:
        for impl in ('conv', 'gemm'):
            m = PatchEmbed(args.img_size, args.patch_size, 3, args.dim,
                           impl=impl).to(args.device)
            m.load_state_dict(base.state_dict())
            if mode == 'bf16-weights':
                m = m.to(torch.bfloat16)
            cases[(mode, impl)] = (m, [])
            run_once(m, x, mode, args.device)  # warm-up
    for _ in range(args.rounds):
        for (mode, impl), (m, times) in cases.items():
            times.append(min(run_once(m, x, mode, args.device)
                             for _ in range(args.reps)))
    rows = []
    print(f'CPU: {describe_cpu()}' if args.device == 'cpu' else
          f'GPU: {torch.cuda.get_device_name()}')
    print(f"{'mode':14s} {'conv ms':>9s} {'gemm ms':>9s} {'conv/gemm':>10s}")
    for mode in args.modes:
        conv = statistics.median(cases[(mode, 'conv')][1]) * 1e3
        gemm = statistics.median(cases[(mode, 'gemm')][1]) * 1e3
        rows.append(dict(mode=mode, conv_ms=conv, gemm_ms=gemm,
                         speedup=conv / gemm))
        print(f'{mode:14s} {conv:9.2f} {gemm:9.2f} {conv / gemm:9.2f}x')
    emit(dict(rows=rows, batch=args.batch, img_size=args.img_size,
              patch_size=args.patch_size, dim=args.dim, device=args.device,
              threads=torch.get_num_threads(), torch=torch.__version__,
              cpu=describe_cpu() if args.device == 'cpu' else None,
              command='python benchmarks/patch_embed.py ' + ' '.join(
                  argv if argv is not None else sys.argv[1:])),
         args.json_out)


if __name__ == '__main__':
    main()
