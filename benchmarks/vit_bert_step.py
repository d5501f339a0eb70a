"""ViT-BERT's joint training step against its two single-modality steps,
and the cost of gradient masking.

One model (the shipped CPU config's ``ViTBERT`` unless ``--cfg-options``
changes it: 192-d, 6 shared blocks, 32 px images in 4x4 patches, 128-token
text, an 8,000-token vocabulary) and one fixed batch of each modality. Per
precision (fp32; bf16 autocast) the variants are

* ``image``: the image batch alone (preprocess, ``image_loss``, backward,
  optimizer step), the config's plain optim wrapper;
* ``text``: the text batch alone (``text_loss``), the same wrapper;
* ``joint``: both batches in one step (``model.train_step``, as the runner
  does), the same wrapper;
* ``gm-scoring``: the joint step under ``GradientMaskOptimWrapper`` with a
  mask in force and more updates to come (each step applies the mask and
  adds the text-gradient magnitudes to the scores), no update in the
  timed steps;
* ``gm-final``: the same after the last update (the mask is applied, no
  scores are kept);
* ``gm-before``: the same wrapper before ``start_iter`` (no mask: the two
  task gradients are summed).

All variants share the model's weights and run round-robin (every variant
once per round, ``--repeats`` rounds) so that load from other jobs on the
machine hits them alike; figures are medians over the rounds, in
wall-clock and in process CPU time (on a machine shared with other jobs
the CPU time moves far less; with ``--threads 1`` it is the step's own
work). Targets: ``joint <= 1.10 x (image + text)`` and ``gm-* <= 1.05 x
joint``, checked on the medians of CPU time (wall-clock beside them). The
bytes each step allocates (one profiled step) do not depend on the load.

    python benchmarks/vit_bert_step.py --threads 1 --repeats 7 \
        --json-out benchmarks/results/cpu_vit_bert_step.json
    python benchmarks/vit_bert_step.py --precisions bf16 --profile gm-scoring

The last line printed is one JSON object.
"""
import argparse
import copy
import logging
import os
import os.path as osp
import platform
import shlex
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mlm_step import cpu_info as lscpu_info  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import easymae  # noqa: E402,F401  (registers every component)
from easymae.registry import MODELS  # noqa: E402
from report import emit  # noqa: E402

CONFIG = ('configs/selfsup/vit_bert/'
          'vit-bert_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py')
VARIANTS = ('image', 'text', 'joint', 'gm-scoring', 'gm-final',
            'gm-before')
# GradientMaskOptimWrapper schedules: the first update at step 0 (a
# warm-up step), none after it within the run
NEVER = 10 ** 9
GM_SCHEDULES = {
    'gm-scoring': dict(start_iter=0, interval=NEVER, delta=0.1, beta=0.5),
    'gm-final': dict(start_iter=0, interval=NEVER, delta=0.5, beta=0.5),
    'gm-before': dict(start_iter=NEVER, interval=1, delta=0.1, beta=0.5),
}
JOINT_TARGET, MASK_TARGET = 1.10, 1.05


def cpu_info() -> dict:
    """Model name and bf16 matrix extensions (lscpu), and the cores."""
    info = dict(dict(amx_bf16=False, avx512_bf16=False), **lscpu_info())
    info['cores'] = os.cpu_count()
    return info


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=CONFIG,
                   help='the joint pretraining config (model and optim '
                        'wrapper are taken from it)')
    p.add_argument('--image-batch', type=int, default=32)
    p.add_argument('--text-batch', type=int, default=32)
    p.add_argument('--text-length', type=int, default=128)
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    p.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'],
                   choices=['fp32', 'bf16'])
    p.add_argument('--variants', nargs='+', default=list(VARIANTS),
                   choices=VARIANTS)
    p.add_argument('--emulated-bf16', action='store_true',
                   help='on a CPU without AMX / AVX-512 bf16 (where the '
                        'optim wrappers refuse bf16), autocast around the '
                        'whole step instead; such figures say nothing of '
                        'a CPU with bf16 matrix instructions')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--steps', type=int, default=2,
                   help='steps per variant per round')
    p.add_argument('--repeats', type=int, default=7, help='rounds')
    p.add_argument('--profile', default=None, metavar='VARIANT',
                   help='after timing, profile 3 steps of this variant '
                        '(first precision) with torch.profiler')
    p.add_argument('--json-out', default=None)
    return p


def synthetic_batch(args, vocab: int, num_classes: int, img_size: int):
    """What joint_collate hands over: uint8 images with labels, full
    (packed) token blocks."""
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (args.image_batch, 3, img_size, img_size),
                         dtype=torch.uint8, generator=g)
    labels = torch.randint(0, num_classes, (args.image_batch,), generator=g)
    ids = torch.randint(5, vocab, (args.text_batch, args.text_length),
                        generator=g)
    ids[:, 0] = 2   # [CLS]
    ids[:, -1] = 3  # [SEP]
    return dict(inputs=dict(image=imgs, text=ids),
                data_samples=dict(image=dict(gt_label=labels),
                                  text=dict(attention_mask=torch.ones_like(
                                      ids))))


def one_modality(batch: dict, modality: str) -> dict:
    return dict(inputs={modality: batch['inputs'][modality]},
                data_samples={modality: batch['data_samples'][modality]})


class Variant:
    """One (precision, variant): its optim wrapper and a step."""

    def __init__(self, name, precision, model, wrapper_cfg, batch,
                 emulated=False):
        self.name, self.precision = name, precision
        # emulated: the wrappers refuse bf16 on a CPU without bf16 matrix
        # instructions; autocast around the whole step instead
        self.emulated = emulated
        self.label = f'{precision} {name}'
        self.model, self.batch = model, batch
        cfg = copy.deepcopy(wrapper_cfg)
        if name.startswith('gm-'):
            cfg['type'] = 'GradientMaskOptimWrapper'
            cfg.update(GM_SCHEDULES[name])
            if precision == 'bf16' and not emulated:
                cfg['dtype'] = 'bfloat16'
        elif precision == 'bf16' and not emulated:
            cfg.update(type='AmpOptimWrapper', dtype='bfloat16',
                       device_type='cpu')
        self.wrapper = build_optim_wrapper(model, cfg)
        if name in ('image', 'text'):
            self.batch = one_modality(batch, name)
        self.times = []      # wall-clock s per step, one per round
        self.cpu_times = []  # process CPU s per step, one per round

    def step(self):
        if self.emulated:
            with torch.autocast('cpu', dtype=torch.bfloat16):
                self._step()
        else:
            self._step()

    def _step(self):
        model, wrapper = self.model, self.wrapper
        if self.name not in ('image', 'text'):
            model.train_step(self.batch, wrapper)
            return
        with wrapper.optim_context(model):
            data = model.data_preprocessor(self.batch, True)
            inputs = data['inputs'][self.name]
            samples = data['data_samples'][self.name]
            loss = model.image_loss(inputs, samples) \
                if self.name == 'image' else model.text_loss(inputs, samples)
        wrapper.update_params(loss)

    def time_round(self, steps: int):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            self.step()
        self.times.append((time.perf_counter() - t0) / steps)
        self.cpu_times.append((time.process_time() - c0) / steps)

    def check_schedule(self):
        """No mask update may fall in the timed steps."""
        w = self.wrapper
        if self.name == 'gm-before':
            assert w.masks is None, self.label
        elif self.name.startswith('gm-'):
            assert w.masks is not None and len(w.history) == 1, self.label


def allocated_per_step(v: Variant) -> float:
    """Bytes the step's operators allocate, from one profiled step: a
    figure the machine's load does not move."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        v.step()
    # each operator's own net allocation (a temporary it frees itself is
    # not seen); the frees outside operators are not subtracted
    return float(sum(max(0, e.self_cpu_memory_usage)
                     for e in prof.events()))


def profile_variant(v: Variant, steps: int = 3):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            v.step()
        wall = time.perf_counter() - t0
    print(f'\nprofile of {v.label}: {steps} steps, {wall * 1e3:.0f} ms')
    print(prof.key_averages().table(sort_by='self_cpu_time_total',
                                    row_limit=25, max_name_column_width=50))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('easymae')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    cfg = Config.fromfile(osp.join(REPO, args.config)
                          if not osp.isabs(args.config) else args.config)
    # no vocabulary file needed: the config's vocab_size and the default
    # special ids; no teachers (they add the same to every variant)
    cfg.model.vocab_file = None
    cfg.model.pop('image_teacher', None)
    cfg.model.pop('text_teacher', None)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    wrapper_cfg = cfg.optim_wrapper.to_dict()
    wrapper_cfg['type'] = 'OptimWrapper'
    for key in ('shared', 'start_iter', 'interval', 'delta', 'beta',
                'scope', 'dtype'):
        wrapper_cfg.pop(key, None)

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    backbone = model.backbone
    batch = synthetic_batch(args, model.text_embed.vocab_size,
                            model.image_head.num_classes, backbone.img_size
                            if isinstance(backbone.img_size, int)
                            else backbone.img_size[0])
    params = sum(p.numel() for p in model.parameters())
    shared = sum(p.numel() for n, p in model.named_parameters()
                 if n.startswith(('backbone.blocks.', 'backbone.norm.')))
    print(f'ViTBERT {backbone.embed_dim}-d x {len(backbone.blocks)} blocks: '
          f'{params / 1e6:.2f} M parameters ({shared / 1e6:.2f} M shared); '
          f'{args.image_batch} images of {backbone.img_size} px + '
          f'{args.text_batch} x {args.text_length} tokens; '
          f'{torch.get_num_threads()} threads', flush=True)
    load_before = load_average()

    cpu = cpu_info()
    has_bf16 = cpu['amx_bf16'] or cpu['avx512_bf16']
    precisions = list(args.precisions)
    if 'bf16' in precisions and not has_bf16 and not args.emulated_bf16:
        print('bf16 left out: this CPU has neither AMX nor AVX-512 bf16 '
              '(--emulated-bf16 measures it anyway)')
        precisions.remove('bf16')
    emulated = 'bf16' in precisions and not has_bf16
    variants = [Variant(name, prec, model, wrapper_cfg, batch,
                        emulated=prec == 'bf16' and emulated)
                for prec in precisions for name in args.variants]
    for v in variants:
        for _ in range(args.warmup):
            v.step()
        v.check_schedule()
    for r in range(args.repeats):
        for v in variants:
            v.time_round(args.steps)
        print(f'round {r + 1}/{args.repeats}: ' + ', '.join(
            f'{v.label} {v.times[-1] * 1e3:.0f} ms' for v in variants),
            flush=True)
    for v in variants:
        v.check_schedule()
    load_after = load_average()
    allocated = {v.label: allocated_per_step(v) for v in variants}
    for v in variants:
        v.check_schedule()

    # ----- figures
    by = {(v.precision, v.name): v for v in variants}
    results, checks = [], []
    for v in variants:
        results.append(dict(label=v.label, precision=v.precision,
                            variant=v.name,
                            step_ms_median=1e3 * statistics.median(v.times),
                            step_ms_min=1e3 * min(v.times),
                            allocated_mb_per_step=allocated[v.label] / 2**20,
                            step_ms_all=[round(1e3 * t, 1)
                                         for t in v.times],
                            cpu_ms_median=1e3 * statistics.median(
                                v.cpu_times),
                            cpu_ms_all=[round(1e3 * t, 1)
                                        for t in v.cpu_times]))
    def ratio_check(prec, check, num, den, target):
        """num / den on medians and per round, in wall-clock and in
        process CPU time (what a loaded machine moves far less)."""
        out = dict(precision=prec, check=check, target=target)
        for basis in ('times', 'cpu_times'):
            n = [sum(x) for x in zip(*(getattr(v, basis) for v in num))]
            d = [sum(x) for x in zip(*(getattr(v, basis) for v in den))]
            rounds = [a / b for a, b in zip(n, d)]
            key = 'wall' if basis == 'times' else 'cpu'
            out[f'{key}_ratio_of_medians'] = statistics.median(n) / \
                statistics.median(d)
            out[f'{key}_per_round_median'] = statistics.median(rounds)
            out[f'{key}_per_round'] = [round(x, 3) for x in rounds]
        out['met'] = out['cpu_ratio_of_medians'] <= target
        out['met_wall'] = out['wall_ratio_of_medians'] <= target
        return out

    for prec in precisions:
        parts = [by.get((prec, n)) for n in ('image', 'text', 'joint')]
        if all(parts):
            checks.append(ratio_check(prec, 'joint / (image + text)',
                                      parts[2:], parts[:2], JOINT_TARGET))
        joint = by.get((prec, 'joint'))
        for name in ('gm-scoring', 'gm-final', 'gm-before'):
            gm = by.get((prec, name))
            if joint is not None and gm is not None:
                checks.append(ratio_check(prec, f'{name} / joint', [gm],
                                          [joint], MASK_TARGET))

    print(f"\nCPU {cpu['model']} ({cpu['cores']} cores, AMX bf16: "
          f"{'yes' if cpu['amx_bf16'] else 'no'}, AVX-512 bf16: "
          f"{'yes' if cpu['avx512_bf16'] else 'no'}); load average before "
          f'{load_before}, after {load_after}')
    print(f"{'variant':18s} {'wall ms':>9s} {'min ms':>8s} {'CPU ms':>8s} "
          f"{'alloc MB/step':>14s}  (medians over rounds)")
    for r in results:
        print(f"{r['label']:18s} {r['step_ms_median']:9.0f} "
              f"{r['step_ms_min']:8.0f} {r['cpu_ms_median']:8.0f} "
              f"{r['allocated_mb_per_step']:14.1f}")
    print(f"\n{'precision':9s} {'check':24s} {'CPU':>6s} {'/round':>7s} "
          f"{'wall':>6s} {'/round':>7s} {'target':>7s}  met (CPU)")
    for c in checks:
        print(f"{c['precision']:9s} {c['check']:24s} "
              f"{c['cpu_ratio_of_medians']:6.3f} "
              f"{c['cpu_per_round_median']:7.3f} "
              f"{c['wall_ratio_of_medians']:6.3f} "
              f"{c['wall_per_round_median']:7.3f} "
              f"{c['target']:7.2f}  {'yes' if c['met'] else 'NO'}")

    if args.profile:
        target = [v for v in variants if v.name == args.profile]
        if target:
            profile_variant(target[0])

    out = dict(
        results=results, checks=checks,
        model=dict(config=args.config, width=backbone.embed_dim,
                   depth=len(backbone.blocks), params_m=params / 1e6,
                   shared_params_m=shared / 1e6,
                   image_batch=args.image_batch,
                   text_batch=args.text_batch,
                   text_length=args.text_length,
                   cfg_options={k: str(v) for k, v in
                                (args.cfg_options or {}).items()}),
        precisions=precisions, bf16_emulated=emulated,
        steps=args.steps, repeats=args.repeats, warmup=args.warmup,
        machine=dict(cpu=cpu, threads=torch.get_num_threads(),
                     torch=torch.__version__, host=platform.node(),
                     load_average_before=load_before,
                     load_average_after=load_after),
        command='python benchmarks/vit_bert_step.py ' + ' '.join(
            shlex.quote(a) for a in argv))
    emit(out, args.json_out)
    return out


if __name__ == '__main__':
    main()
