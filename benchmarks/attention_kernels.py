"""Attention forward + backward: torch's SDPA vs the plain matmul path.

timm's ``Attention`` runs either ``F.scaled_dot_product_attention`` or
``q @ k^T -> softmax -> @ v``; easymae's ``fused_attn='auto'`` picks the
plain path when training on the CPU. This measures why, on the shapes our
models train with, under bf16 autocast (as ``--amp`` trains) and in fp32,
interleaved, median of the repeats:

    python benchmarks/attention_kernels.py [--threads 2] [--repeats 5]

The last line printed is one JSON object.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from report import emit

# (name, batch, heads, tokens, head dim)
SHAPES = [
    ('MAE ViT-B/16 encoder, batch 8', 8, 12, 50, 64),
    ('MAE ViT-B/16 decoder, batch 8', 8, 16, 197, 32),
    ('ViT-Tiny p4 32px finetune, batch 128', 128, 3, 65, 64),
    ('MAE ViT-Tiny p4 32px encoder, batch 128', 128, 3, 17, 64),
]


def sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v)


def plain(q, k, v):  # timm's non-fused path
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    return attn.softmax(dim=-1) @ v


def step_ms(fn, q, k, v, grad, amp, iters):
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        start = time.perf_counter()
        for _ in range(iters):
            fn(q, k, v).backward(grad)
    return (time.perf_counter() - start) / iters * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--iters', type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for name, b, h, t, d in SHAPES:
        for amp in (True, False):
            dtype = torch.bfloat16 if amp else torch.float32
            q, k, v = [torch.randn(b, h, t, d, dtype=dtype,
                                   requires_grad=True) for _ in range(3)]
            grad = torch.randn(b, h, t, d, dtype=dtype)
            times = {'sdpa': [], 'plain': []}
            for fn in (sdpa, plain):  # warm-up
                step_ms(fn, q, k, v, grad, amp, 2)
            for _ in range(args.repeats):
                for label, fn in (('sdpa', sdpa), ('plain', plain)):
                    times[label].append(
                        step_ms(fn, q, k, v, grad, amp, args.iters))
            med = {k_: statistics.median(v_) for k_, v_ in times.items()}
            rows.append(dict(shape=name, dims=[b, h, t, d],
                             amp='bf16' if amp else 'fp32',
                             sdpa_ms=med['sdpa'], plain_ms=med['plain'],
                             speedup=med['sdpa'] / med['plain']))
            print(f"{name:42s} {rows[-1]['amp']}: SDPA {med['sdpa']:7.2f} ms"
                  f"  plain {med['plain']:7.2f} ms  plain is "
                  f"{rows[-1]['speedup']:.2f}x faster", flush=True)
    emit(dict(rows=rows, threads=args.threads, torch=torch.__version__))


if __name__ == '__main__':
    main()
