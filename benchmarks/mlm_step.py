"""Masked-LM training step: our BERT vs HF transformers' BertForMaskedLM.

The same model on both sides (layers, width, heads, MLP width, vocabulary,
positions, dropout 0.1, post-norm, exact GELU, tied decoder), the same
batch of random token ids with an all-ones attention mask (packed blocks,
as ``LineCorpus(pack_tokens=...)`` gives), the same masking (15% of the
tokens of each row predicted, 80/10/10, drawn afresh every step with our
``mask_tokens`` on both sides) and the same optimizer (torch AdamW, one
parameter group). One step = masking + forward + backward + AdamW step.
fp32, and bf16 autocast (no loss scaling) on the same modules.

Three variants, timed round-robin in one process with the matmul peak:

* ``ours``: ``BERT.loss``: the vocabulary-sized head runs on the masked
  positions only (the reference implementation's ``gather_indexes``);
* ``hf-labels``: ``BertForMaskedLM(input_ids, attention_mask, labels=...)``
  with -100 at the positions not predicted, the standard path of
  ``transformers`` (``DataCollatorForLanguageModeling`` + ``Trainer``): the
  head computes logits for every position;
* ``hf-gather``: HF's encoder (``model.bert``), then HF's head
  (``model.cls``) on the masked positions only, cross-entropy by hand: what
  ours does, written against HF's modules.

    python benchmarks/mlm_step.py --size mini --json-out \
        benchmarks/results/cpu_mlm_step_mini.json
    python benchmarks/mlm_step.py --size base --repeats 4

FLOPs per token are counted with ``FlopCounterMode`` over one training step
of each variant; "useful" FLOPs are counted by hand from the shapes for the
work the loss needs (encoder on every token, head on the predicted 15%),
the same number for all variants, so that a variant doing extra work
(``hf-labels``) is not credited for it in the share of the peak. The last
line printed is one JSON object.
"""
import argparse
import logging
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmengine.logging import MMLogger  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import easymae  # noqa: E402,F401  (registers every component)
from easymae.models.algorithms.bert import mask_tokens  # noqa: E402
from easymae.registry import MODELS  # noqa: E402
from report import emit  # noqa: E402
from train_step import MatmulPeak, register_cpu_attention_flops  # noqa: E402

# (layers, width, heads, seq len, batch); MLP width 4 x width
SIZES = {
    'tiny': (2, 128, 2, 128, 32),
    'mini': (4, 256, 4, 128, 32),
    'base': (12, 768, 12, 128, 8),
}
VARIANTS = ('ours', 'hf-labels', 'hf-gather')
MASK_ID = 4
SPECIAL_IDS = (0, 1, 2, 3, 4)  # [PAD] [UNK] [CLS] [SEP] [MASK]


def cpu_info() -> dict:
    """Model name and the bf16 matrix extensions, from lscpu."""
    try:
        text = subprocess.run(['lscpu'], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        text = ''
    info = dict(model=platform.processor() or platform.machine())
    for line in text.splitlines():
        key, _, val = line.partition(':')
        if key.strip() == 'Model name':
            info['model'] = val.strip()
        elif key.strip() == 'Flags':
            flags = set(val.split())
            info['amx_bf16'] = 'amx_bf16' in flags
            info['avx512_bf16'] = 'avx512_bf16' in flags
    return info


# ------------------------------------------------------------- the models
def build_ours(args):
    layers, width, heads = args.layers, args.width, args.heads
    model = MODELS.build(dict(
        type='BERT', mask_ratio=args.mask_ratio,
        backbone=dict(type='BertEncoder', vocab_size=args.vocab,
                      max_position_embeddings=args.seq, embed_dim=width,
                      depth=layers, num_heads=heads, mlp_ratio=4.0,
                      post_norm=True, hidden_dropout=0.1, attn_dropout=0.1,
                      fused_attn=args.fused_attn)))
    return model


def build_hf(args):
    from transformers import BertConfig, BertForMaskedLM
    cfg = BertConfig(vocab_size=args.vocab, hidden_size=args.width,
                     num_hidden_layers=args.layers,
                     num_attention_heads=args.heads,
                     intermediate_size=4 * args.width,
                     max_position_embeddings=args.seq, hidden_act='gelu',
                     hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1,
                     attn_implementation=args.hf_attn)
    return BertForMaskedLM(cfg)


class Variant:
    """A model, its AdamW and a fixed batch of ids, ready to step."""

    def __init__(self, name: str, model, args, ids, replace_ids):
        self.name, self.model, self.args = name, model, args
        self.ids = ids
        self.attention_mask = torch.ones_like(ids)
        self.replace_ids = replace_ids
        self.maskable = ~torch.isin(ids, torch.tensor(SPECIAL_IDS))
        model.train()
        self.optim = torch.optim.AdamW(model.parameters(), lr=1e-4,
                                       weight_decay=0.01)
        self.params = sum(p.numel() for p in model.parameters())
        self.times = {'fp32': [], 'bf16': []}
        self.flops = {}

    def loss(self):
        if self.name == 'ours':
            return self.model.loss(
                self.ids, dict(attention_mask=self.attention_mask))
        corrupted, mask = mask_tokens(self.ids, self.maskable,
                                      self.args.mask_ratio, MASK_ID,
                                      self.replace_ids)
        if self.name == 'hf-labels':
            labels = self.ids.masked_fill(~mask, -100)
            return self.model(input_ids=corrupted,
                              attention_mask=self.attention_mask,
                              labels=labels).loss
        hidden = self.model.bert(input_ids=corrupted,
                                 attention_mask=self.attention_mask)[0]
        logits = self.model.cls(hidden[mask])
        return F.cross_entropy(logits.float(), self.ids[mask])

    def step(self, dtype: str):
        ctx = torch.autocast('cpu', dtype=torch.bfloat16) \
            if dtype == 'bf16' else nullcontext()
        self.optim.zero_grad(set_to_none=True)
        with ctx:
            loss = self.loss()
            if isinstance(loss, dict):
                loss = sum(loss.values())
        loss.backward()
        self.optim.step()

    def count_flops(self, dtype: str):
        with FlopCounterMode(display=False) as counter:
            self.step(dtype)
        self.flops[dtype] = counter.get_total_flops()

    def time_repeat(self, dtype: str, steps: int):
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step(dtype)
        self.times[dtype].append((time.perf_counter() - t0) / steps)


def useful_flops_per_step(args) -> float:
    """Training FLOPs (3 x forward) the MLM loss needs, from the shapes:
    per layer QKV/out projections and the MLP on every token, QK^T and AV
    over the sequence, and the head (dense + decoder) on the predicted
    tokens only (their count by the masking rule: round(0.15 x T))."""
    L, D, T, N, V = args.layers, args.width, args.seq, args.batch, args.vocab
    tokens = N * T
    per_token = L * (2 * 4 * D * D + 2 * 2 * D * 4 * D + 2 * 2 * T * D)
    predicted = N * max(1, round(args.mask_ratio * (T - 2)))
    head = predicted * (2 * D * D + 2 * D * V)
    return 3 * (tokens * per_token + head)


# ------------------------------------------------------------- the run
def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', choices=sorted(SIZES), default='mini')
    p.add_argument('--vocab', type=int, default=30522,
                   help="vocabulary (BERT's uncased 30,522 by default)")
    p.add_argument('--batch', type=int, default=None)
    p.add_argument('--seq', type=int, default=None)
    p.add_argument('--mask-ratio', type=float, default=0.15)
    p.add_argument('--variants', nargs='+', default=list(VARIANTS),
                   choices=VARIANTS)
    p.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'],
                   choices=['fp32', 'bf16'])
    p.add_argument('--fused-attn', default='auto',
                   help="our BertEncoder's fused_attn: auto, true, false")
    p.add_argument('--hf-attn', default='sdpa', choices=['sdpa', 'eager'],
                   help="transformers' attn_implementation")
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--steps', type=int, default=2,
                   help='steps per timed repeat')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--peak-size', type=int, default=4096)
    p.add_argument('--profile', action='store_true',
                   help='after timing, profile 3 steps of each variant in '
                        'each dtype and print the top operators')
    p.add_argument('--json-out', default=None)
    return p


def profile_variant(v: Variant, dtype: str, steps: int = 3):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            v.step(dtype)
        wall = time.perf_counter() - t0
    print(f'\nprofile of {v.name} {dtype}: {steps} steps, '
          f'{wall * 1e3:.0f} ms')
    print(prof.key_averages().table(sort_by='self_cpu_time_total',
                                    row_limit=14, max_name_column_width=50))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.layers, args.width, args.heads, seq, batch = SIZES[args.size]
    args.seq = args.seq or seq
    args.batch = args.batch or batch
    if args.fused_attn in ('true', 'false'):
        args.fused_attn = args.fused_attn == 'true'
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('easymae')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    register_cpu_attention_flops()

    g = torch.Generator().manual_seed(0)
    # real tokens only: ids past the special ones, [CLS] ... [SEP] framing
    ids = torch.randint(len(SPECIAL_IDS), args.vocab, (args.batch, args.seq),
                        generator=g)
    ids[:, 0], ids[:, -1] = 2, 3
    replace_ids = torch.arange(len(SPECIAL_IDS), args.vocab)

    peak = MatmulPeak('cpu', args.peak_size, args.dtypes) \
        if args.peak_size else None
    variants = []
    for name in args.variants:
        torch.manual_seed(0)
        if name == 'ours':
            model = build_ours(args)
        else:
            hf = next((v.model for v in variants
                       if v.name.startswith('hf')), None)
            model = hf if hf is not None else build_hf(args)
        v = Variant(name, model, args, ids, replace_ids)
        for dtype in args.dtypes:
            for _ in range(args.warmup):
                v.step(dtype)
            v.count_flops(dtype)
        variants.append(v)
        print(f'built {name}: {v.params / 1e6:.2f} M params, ' + ', '.join(
            f'{d} {v.flops[d] / args.batch / args.seq / 1e6:.1f} MFLOP/token'
            for d in args.dtypes), flush=True)

    # round-robin: every variant in every dtype and the peak once a round
    for r in range(args.repeats):
        for dtype in args.dtypes:
            for v in variants:
                v.time_repeat(dtype, args.steps)
        if peak:
            peak.measure()
        print(f'round {r + 1}/{args.repeats}: ' + ', '.join(
            f'{v.name} {d} {args.batch * args.seq / v.times[d][-1]:.0f} tok/s'
            for d in args.dtypes for v in variants), flush=True)

    if args.profile:
        for dtype in args.dtypes:
            for v in variants:
                profile_variant(v, dtype)

    peaks = peak.peaks() if peak else {}
    tokens = args.batch * args.seq
    useful = useful_flops_per_step(args)
    results = []
    for v in variants:
        for dtype in args.dtypes:
            step_s = statistics.median(v.times[dtype])
            res = dict(
                variant=v.name, dtype=dtype, params_m=round(v.params / 1e6,
                                                            2),
                step_s_median=step_s,
                step_s_all=[round(t, 5) for t in v.times[dtype]],
                tokens_per_s=tokens / step_s,
                flops_per_token_counted=v.flops[dtype] / tokens,
                flops_per_token_useful=useful / tokens)
            if dtype in peaks:
                res['share_of_peak_counted'] = \
                    v.flops[dtype] / step_s / peaks[dtype]
                res['share_of_peak_useful'] = useful / step_s / peaks[dtype]
            results.append(res)
    ratios = []
    by = {(r['variant'], r['dtype']): r for r in results}
    for dtype in args.dtypes:
        for other in ('hf-labels', 'hf-gather'):
            if ('ours', dtype) in by and (other, dtype) in by:
                ratios.append(dict(
                    dtype=dtype, vs=other,
                    ours_over_hf=by['ours', dtype]['tokens_per_s'] /
                    by[other, dtype]['tokens_per_s'],
                    per_round=[b / a for a, b in zip(
                        by['ours', dtype]['step_s_all'],
                        by[other, dtype]['step_s_all'])]))
                ratios[-1]['median_of_rounds'] = statistics.median(
                    ratios[-1]['per_round'])

    print()
    print(f"{'variant':10s} {'dtype':5s} {'tok/s':>8s} {'MFLOP/tok':>10s} "
          f"{'useful':>7s} {'%peak':>6s} {'%peak useful':>12s}")
    for r in results:
        share = r.get('share_of_peak_counted')
        share_u = r.get('share_of_peak_useful')
        print(f"{r['variant']:10s} {r['dtype']:5s} {r['tokens_per_s']:8.0f} "
              f"{r['flops_per_token_counted'] / 1e6:10.1f} "
              f"{r['flops_per_token_useful'] / 1e6:7.1f} "
              f"{'' if share is None else f'{100 * share:5.1f}%':>6s} "
              f"{'' if share_u is None else f'{100 * share_u:5.1f}%':>12s}")
    for k, val in peaks.items():
        print(f'matmul peak {k} ({args.peak_size}^3): {val / 1e12:.3f} '
              'TFLOP/s')
    for q in ratios:
        print(f"ours / {q['vs']} ({q['dtype']}): {q['ours_over_hf']:.2f}x "
              f"(median of rounds {q['median_of_rounds']:.2f}, range "
              f"{min(q['per_round']):.2f}-{max(q['per_round']):.2f})")

    import transformers
    out = dict(
        size=args.size, layers=args.layers, width=args.width,
        heads=args.heads, mlp=4 * args.width, vocab=args.vocab,
        seq=args.seq, batch=args.batch, mask_ratio=args.mask_ratio,
        fused_attn=args.fused_attn, hf_attn=args.hf_attn,
        results=results, ratios=ratios, matmul_peak_flops=peaks,
        matmul_peak_size=args.peak_size,
        machine=dict(host=platform.node(), cpu=cpu_info(),
                     torch=torch.__version__,
                     transformers=transformers.__version__,
                     threads=torch.get_num_threads(),
                     load_average=list(_loadavg())),
        command='python benchmarks/mlm_step.py ' + ' '.join(
            shlex.quote(a) for a in argv))
    emit(out, args.json_out)
    return out


def _loadavg():
    try:
        import os
        return os.getloadavg()
    except OSError:
        return ()


if __name__ == '__main__':
    main()
