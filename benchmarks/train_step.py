"""Steady-state training-step throughput, FLOPs and utilisation.

One step is what the runner does per iteration: the synthetic uint8 batch
goes through the model's data preprocessor (normalised on the device), then
forward, backward and the optimizer step through the config's optim wrapper
(``AmpOptimWrapper`` with ``--amp``).

    python benchmarks/train_step.py --model mae --arch vit-base \
        --img-size 224 --batch 8 --amp bf16
    # several configurations in one process, timed round-robin, with ratios:
    python benchmarks/train_step.py --model mae --arch vit-base --batch 8 \
        --amp bf16 --compare "" "--cfg-options model.encoder_mask_token=True"

Each ``--compare`` entry is a string of extra arguments applied on top of the
command line's own. The machine's matmul peak (fp32 and bf16, fp16 on CUDA)
is measured in every round between the models, so utilisation is read
against the peak of the same minutes. The last line printed is one JSON
object (``img_per_s``, ``flops_per_img`` of the first configuration, and
``results`` / ``ratios`` for all of them).
"""
import argparse
import glob
import logging
import os.path as osp
import platform
import resource
import shlex
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import easymae  # noqa: E402,F401  (registers every component)
from easymae.engine.precision import (  # noqa: E402
    cpu_matrix_capability,
    describe_cpu,
)
from easymae.models.algorithms.base import BaseAlgorithm  # noqa: E402
from easymae.models.backbones.patch_embed import (  # noqa: E402
    PATCH_EMBED_LABEL,
)
from easymae.registry import MODELS  # noqa: E402
from report import emit  # noqa: E402

ARCHS = {'vit-tiny': 'tiny', 'vit-small': 'small', 'vit-base': 'base',
         'vit-large': 'large', 'vit-huge': 'huge'}
AMP_DTYPES = {'bf16': 'bfloat16', 'fp16': 'float16',
              'bf16-master': 'bfloat16'}

# Each algorithm's config, found by pattern so that renamed schedules still
# match; the backbone's arch / img_size and the mask ratio are overridden.
# '{arch}' is tried first with the asked arch, then with 'base' (whose
# backbone arch is then overridden).
MODEL_CONFIGS = {
    'mae': 'configs/selfsup/mae/mae_vit-{arch}-p16_*in1k.py',
    'simmim': 'configs/selfsup/simmim/simmim_vit-{arch}-p16_*.py',
    'flip': 'configs/selfsup/flip/flip_vit-{arch}-p16_[0-9]*.py',
    'mocov3': 'configs/selfsup/mocov3/mocov3_vit-{arch}-p16_*in1k.py',
    'dino': 'configs/selfsup/dino/dino_vit-{arch}-p16_*in1k.py',
}
# views per image of the multi-view algorithms: (global views at
# --img-size, local views at --local-size); DINO's local count is
# --local-crops
MULTI_VIEW = {'mocov3': 2, 'dino': 2}
FINETUNE_SCHEDULE = 'configs/_base_/schedules/adamw_coslr_mae_pretrain.py'


# ------------------------------------------------------------------ models
class PlainClassifier(BaseAlgorithm):
    """Our ViT + global average pool + linear head, cross-entropy loss: the
    compute of MAE's finetuning step (drop path 0.1), without the recipe.

    Not registered: the config names the class itself as its ``type``, so
    importing the harness leaves the ``MODELS`` registry as it was."""

    def __init__(self, backbone: dict, num_classes: int = 1000,
                 data_preprocessor=None):
        super().__init__(backbone, data_preprocessor=data_preprocessor)
        self.fc = nn.Linear(self.backbone.embed_dim, num_classes)

    def loss(self, inputs, data_samples=None):
        logits = self.fc(self.backbone(inputs))
        return dict(loss=F.cross_entropy(logits, data_samples['gt_label']))


def _find_config(model: str, arch: str) -> str:
    for name in (arch, 'base'):
        pattern = osp.join(REPO, MODEL_CONFIGS[model].format(arch=name))
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise FileNotFoundError(
        f'--model {model}: no config matches {MODEL_CONFIGS[model]!r} '
        f'in {REPO}')


def build_config(args) -> Config:
    arch = ARCHS[args.arch]
    if args.config:
        # a training config as it is (e.g. a results-page recipe): only the
        # precision and --cfg-options change it; the image side is read
        # from its backbone
        cfg = Config.fromfile(args.config)
        args.img_size = cfg.model.backbone.get('img_size', args.img_size)
    elif args.model == 'finetune':
        cfg = Config.fromfile(osp.join(REPO, FINETUNE_SCHEDULE))
        cfg.model = dict(
            type=PlainClassifier, num_classes=1000,
            backbone=dict(type='VisionTransformer', arch=arch,
                          img_size=args.img_size, patch_size=args.patch_size,
                          global_pool='avg', drop_path_rate=0.1))
    else:
        cfg = Config.fromfile(_find_config(args.model, arch))
        backbone = cfg.model.backbone
        backbone.arch = arch
        backbone.img_size = args.img_size
        backbone.patch_size = args.patch_size
        if args.mask_ratio is not None:
            cfg.model.mask_ratio = args.mask_ratio
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        if args.amp == 'bf16-master':
            cfg.optim_wrapper.type = 'BF16MasterWeightOptimWrapper'
        cfg.optim_wrapper.dtype = AMP_DTYPES[args.amp]
        cfg.optim_wrapper.device_type = args.device
    if args.patch_embed:
        target = cfg.model.backbone
        target.patch_embed_impl = args.patch_embed
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def synthetic_batch(cfg, args) -> dict:
    """What the DataLoader would hand over: uint8 images, plus the extras
    each algorithm reads from ``data_samples``."""
    g = torch.Generator().manual_seed(0)
    B, S = args.batch, args.img_size
    inputs = torch.randint(0, 256, (B, 3, S, S), dtype=torch.uint8,
                           generator=g)
    if args.model in MULTI_VIEW:
        # a list of views, one (B, 3, h, w) batch each, as the default
        # collate leaves MultiView's output: global views first
        L = args.local_size
        inputs = [inputs] + [
            torch.randint(0, 256, (B, 3, S, S), dtype=torch.uint8,
                          generator=g)
            for _ in range(MULTI_VIEW[args.model] - 1)]
        if args.model == 'dino':
            inputs += [torch.randint(0, 256, (B, 3, L, L),
                                     dtype=torch.uint8, generator=g)
                       for _ in range(args.local_crops)]
    samples = {'gt_label': torch.randint(0, 1000, (B,), generator=g)}
    if args.model == 'flip':
        # FLIP trains on 32-token captions; token ids of CLIP's vocabulary.
        text_cfg = cfg.model.get('text_backbone') or {}
        length = text_cfg.get('context_length', args.text_length)
        samples['text'] = torch.randint(1, 49400, (B, length), generator=g)
    if args.device == 'cuda':  # as the DataLoader with pin_memory
        inputs = ([v.pin_memory() for v in inputs]
                  if isinstance(inputs, list) else inputs.pin_memory())
    return dict(inputs=inputs, data_samples=samples)


# -------------------------------------------------------- one benchmark
class Bench:
    """A model, its optim wrapper and a batch, ready to step."""

    def __init__(self, args, label: str):
        self.args, self.label = args, label
        self.cfg = build_config(args)
        device = torch.device(args.device)
        mem_before = _allocated(device)
        self.model = MODELS.build(self.cfg.model).to(device)
        self.model.train()
        self.optim_wrapper = build_optim_wrapper(self.model,
                                                 self.cfg.optim_wrapper)
        self.batch = synthetic_batch(self.cfg, args)
        if args.compile:
            # compile forward (+ its backward through AOTAutograd); the
            # preprocessor and the optimizer step stay eager.
            self.model.forward = torch.compile(self.model.forward)
        self.params = sum(p.numel() for p in self.model.parameters())
        self.mem_before = mem_before
        self.peak_mem_mb = None
        self.times = []
        self.flops_per_img = None

    def step(self):
        self.model.train_step(self.batch, self.optim_wrapper)

    def count_flops(self):
        # one fwd+bwd (+ optimizer step, which does no matmul) in eager mode
        forward = self.model.__dict__.pop('forward', None)
        with FlopCounterMode(display=False) as counter:
            self.step()
        if forward is not None:
            self.model.forward = forward
        self.flops_per_img = counter.get_total_flops() / self.args.batch

    def warmup(self):
        device = torch.device(self.args.device)
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(self.args.warmup):
            self.step()
        _sync(device)
        if device.type == 'cuda':
            peak = torch.cuda.max_memory_allocated(device)
            self.peak_mem_mb = (peak - self.mem_before) / 2**20

    def time_repeat(self):
        device = torch.device(self.args.device)
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(self.args.steps):
            self.step()
        _sync(device)
        self.times.append((time.perf_counter() - t0) / self.args.steps)

    def result(self, peaks: dict, best_peaks=None) -> dict:
        step_s = statistics.median(self.times)
        img_per_s = self.args.batch / step_s
        dtype = {'bf16-master': 'bf16'}.get(self.args.amp,
                                            self.args.amp or 'fp32')
        achieved = (self.flops_per_img or 0) * img_per_s
        res = dict(
            label=self.label, model=self.args.model, arch=self.args.arch,
            img_size=self.args.img_size, batch=self.args.batch,
            mask_ratio=self.args.mask_ratio, amp=self.args.amp,
            # img/s counts images, each of them `views` crops
            views=_views(self.args),
            compile=self.args.compile, device=self.args.device,
            cfg_options=self.args.cfg_options_raw,
            params_m=round(self.params / 1e6, 2),
            step_s_median=step_s,
            step_s_all=[round(t, 5) for t in self.times],
            img_per_s=img_per_s, flops_per_img=self.flops_per_img,
            achieved_tflops=achieved / 1e12,
            peak_mem_mb=self.peak_mem_mb,
            cpu_matrix=(cpu_matrix_capability()
                        if self.args.device == 'cpu' else None))
        # least-disturbed figures for a shared machine: fastest repeat
        # against the fastest peak measurement of the run
        res['step_s_min'] = min(self.times)
        if dtype in peaks and self.flops_per_img:
            res['peak_dtype'] = dtype
            res['share_of_matmul_peak'] = achieved / peaks[dtype]
            if best_peaks:
                res['share_of_matmul_peak_best'] = (
                    self.flops_per_img * self.args.batch / min(self.times)
                    / best_peaks[dtype])
        return res


def _views(args) -> list:
    """(count, side) of the crops each image is seen as."""
    if args.model not in MULTI_VIEW:
        return [[1, args.img_size]]
    out = [[MULTI_VIEW[args.model], args.img_size]]
    if args.model == 'dino' and args.local_crops:
        out.append([args.local_crops, args.local_size])
    return out


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _allocated(device):
    if device.type == 'cuda':
        return torch.cuda.memory_allocated(device)
    return 0


# ------------------------------------------------------------ matmul peak
MATMUL_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16,
                 'fp16': torch.float16}


class MatmulPeak:
    """Square matmul rate of this machine, per dtype, on random data."""

    def __init__(self, device: str, size: int, dtypes):
        self.device = torch.device(device)
        self.size = size
        self.mats = {}
        for name in dtypes:
            dt = MATMUL_DTYPES[name]
            a = torch.randn(size, size, device=self.device).to(dt)
            b = torch.randn(size, size, device=self.device).to(dt)
            self.mats[name] = (a, b)
        self.rates = {name: [] for name in dtypes}
        for name in dtypes:  # warm-up: library init, handle creation
            self._once(name)

    def _once(self, name):
        a, b = self.mats[name]
        reps = 10 if self.device.type == 'cuda' else 1
        _sync(self.device)
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        _sync(self.device)
        return 2 * self.size**3 * reps / (time.perf_counter() - t0)

    def measure(self):
        for name in self.rates:
            self.rates[name].append(self._once(name))

    def peaks(self) -> dict:
        return {k: statistics.median(v) for k, v in self.rates.items() if v}


def profile_steps(bench, steps: int = 3):
    """Top operators by device (or CPU) time, and how busy the device was."""
    from torch.profiler import ProfilerActivity, profile
    cuda = bench.args.device == 'cuda'
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    device = torch.device(bench.args.device)
    _sync(device)
    with profile(activities=acts) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            bench.step()
        _sync(device)
        wall = time.perf_counter() - t0
    events = prof.key_averages()
    key = 'self_device_time_total' if cuda else 'self_cpu_time_total'
    print(f'\nprofile of {bench.label}: {steps} steps, {wall * 1e3:.1f} ms')
    print(events.table(sort_by=key, row_limit=18, max_name_column_width=60))
    if cuda:
        # kernels only: operator rows repeat their kernels' device time
        from torch.autograd import DeviceType
        busy = sum(e.self_device_time_total for e in prof.events()
                   if e.device_type == DeviceType.CUDA) / 1e6
        print(f'device busy {busy * 1e3:.1f} ms of {wall * 1e3:.1f} ms wall '
              f'({100 * busy / wall:.0f}%)')


# ------------------------------------------------------- time breakdown
BREAKDOWN = ('gemm', 'casts/copies', 'attention', 'elementwise', 'optimizer',
             'patch embedding', 'data preprocessing', 'other')
PREPROCESS_LABEL = 'easymae::data_preprocessor'
GEMM_OPS = {'mm', 'addmm', 'bmm', 'baddbmm', 'addbmm', 'matmul', 'linear',
            '_addmm_activation', 'mkldnn_linear', 'mkldnn_linear_backward',
            'mkldnn_linear_backward_weights', 'mkldnn_linear_backward_input'}
COPY_OPS = {'copy_', 'to', '_to_copy', 'clone', 'contiguous', 'copy',
            '_copy_from', '_copy_from_and_resize', '_foreach_copy_',
            'to_dense'}
ELEMENTWISE_OPS = {
    'layer_norm', 'native_layer_norm', 'native_layer_norm_backward',
    'gelu', 'gelu_backward', 'relu', 'threshold_backward', 'silu',
    'silu_backward', 'sigmoid', 'tanh', 'add', 'add_', 'sub', 'sub_',
    'rsub', 'mul', 'mul_', 'div', 'div_', 'neg', 'pow', 'sqrt', 'rsqrt',
    'exp', 'log', 'abs', 'clamp', 'clamp_', 'where', 'masked_fill',
    'masked_fill_', 'fill_', 'zero_', 'softmax', '_softmax',
    '_softmax_backward_data', 'log_softmax', '_log_softmax',
    '_log_softmax_backward_data', 'dropout', 'native_dropout',
    'native_dropout_backward', 'bernoulli_', 'sum', 'mean', 'var',
    'var_mean', 'std', 'mse_loss', 'mse_loss_backward', 'cross_entropy_loss',
    'nll_loss', 'nll_loss_forward', 'nll_loss_backward', 'lerp_',
    'addcmul_', 'addcdiv_', 'norm', 'linalg_vector_norm', 'div_', 'erf'}


def _op(name: str) -> str:
    return name.split('::', 1)[1] if name.startswith('aten::') else name


def categorize(name: str, ancestors=()) -> str:
    """The breakdown category of one profiler event, by its own name and
    the names of the ranges it ran inside."""
    for a in (name, *ancestors):
        if a == PREPROCESS_LABEL:
            return 'data preprocessing'
        if a == PATCH_EMBED_LABEL or 'PatchEmbed' in a:
            return 'patch embedding'
    op = _op(name)
    if op in COPY_OPS:
        return 'casts/copies'
    if op in GEMM_OPS:
        return 'gemm'
    if 'scaled_dot_product' in op or 'flash_attention' in op or \
            'efficient_attention' in op:
        return 'attention'
    if 'convolution' in op or op.startswith(('conv2d', 'mkldnn_conv')):
        return 'patch embedding'
    if op.startswith(('adam', '_fused_adam', '_foreach', 'Optimizer.',
                      'sgd', '_fused_sgd')):
        return 'optimizer'
    if op in ELEMENTWISE_OPS:
        return 'elementwise'
    return 'other'


def breakdown_of_events(events) -> dict:
    """Self-CPU microseconds per category over the profiler's events
    (``FunctionEvent`` objects: ``name``, ``self_cpu_time_total``,
    ``cpu_parent``). Every event lands in exactly one category, so the
    categories sum to the total."""
    out = dict.fromkeys(BREAKDOWN, 0.0)
    for e in events:
        ancestors, parent = [], e.cpu_parent
        while parent is not None:
            ancestors.append(parent.name)
            parent = parent.cpu_parent
        out[categorize(e.name, ancestors)] += e.self_cpu_time_total
    return out


def _label_preprocessor(model):
    pre = getattr(model, 'data_preprocessor', None)
    if pre is None or 'forward' in pre.__dict__:
        return
    forward = pre.forward

    def labelled(*args, **kwargs):
        with torch.profiler.record_function(PREPROCESS_LABEL):
            return forward(*args, **kwargs)
    pre.forward = labelled


def breakdown_steps(bench, steps: int) -> dict:
    """Profile ``steps`` steps of ``bench``; ms per step per category."""
    from torch.profiler import ProfilerActivity, profile
    _label_preprocessor(bench.model)
    device = torch.device(bench.args.device)
    _sync(device)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            bench.step()
        _sync(device)
        wall = time.perf_counter() - t0
    us = breakdown_of_events(prof.events())
    total = sum(us.values())
    return dict(ms_per_step={k: v / 1e3 / steps for k, v in us.items()},
                share={k: v / total if total else 0.0
                       for k, v in us.items()},
                total_ms_per_step=total / 1e3 / steps,
                wall_ms_per_step=wall * 1e3 / steps, steps=steps)


def print_breakdown(label: str, bd: dict):
    print(f"\nbreakdown of {label} (self CPU time, "
          f"{bd['total_ms_per_step']:.1f} ms/step profiled, "
          f"{bd['wall_ms_per_step']:.1f} ms/step wall):")
    for k in BREAKDOWN:
        print(f"  {k:20s} {bd['ms_per_step'][k]:10.1f} ms "
              f"{100 * bd['share'][k]:6.1f}%")


# ------------------------------------------------------------- the run
def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='mae',
                   choices=['mae', 'simmim', 'flip', 'finetune', 'mocov3',
                            'dino'])
    p.add_argument('--config', default=None,
                   help='time this pretraining config as it is (its '
                        'backbone, heads and optimizer) instead of the '
                        "--model family's ImageNet config resized by "
                        '--arch / --img-size / --patch-size; --model still '
                        'names its algorithm (views per image)')
    p.add_argument('--arch', default='vit-base', choices=sorted(ARCHS))
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--patch-size', type=int, default=16)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--mask-ratio', type=float, default=None,
                   help="override the config's mask ratio")
    p.add_argument('--local-crops', type=int, default=8,
                   help='DINO: local crops per image (besides the 2 '
                        'global ones at --img-size)')
    p.add_argument('--local-size', type=int, default=96,
                   help='DINO: side of the local crops')
    p.add_argument('--text-length', type=int, default=32,
                   help="FLIP caption length in tokens, when the config's "
                        'text_backbone names no context_length')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    p.add_argument('--amp', choices=sorted(AMP_DTYPES), default=None,
                   help='bf16 / fp16: autocast over fp32 weights '
                        '(AmpOptimWrapper); bf16-master: bf16 weights with '
                        'fp32 masters (BF16MasterWeightOptimWrapper)')
    p.add_argument('--patch-embed', choices=['auto', 'conv', 'gemm'],
                   default=None,
                   help="the ViT backbone's patch_embed_impl")
    p.add_argument('--compile', action='store_true')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (default: torch decides)')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--steps', type=int, default=2,
                   help='steps per timed repeat')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--no-flops', action='store_true')
    p.add_argument('--peak-size', type=int, default=None,
                   help='matmul side for the peak (default 4096 on the CPU, '
                        '8192 on CUDA); 0 skips the peak')
    p.add_argument('--compare', nargs='+', default=None, metavar='ARGS',
                   help='configurations to run beside each other, each a '
                        'string of extra arguments ("" = as given)')
    p.add_argument('--profile', action='store_true',
                   help='after timing, profile 3 steps of the first '
                        'configuration with torch.profiler and print where '
                        'the time goes')
    p.add_argument('--breakdown', action='store_true',
                   help='after timing, profile --steps steps of every '
                        'configuration and sum self-CPU time into '
                        'categories (GEMM, casts/copies, attention, '
                        'elementwise, optimizer, patch embedding, data '
                        'preprocessing, other)')
    p.add_argument('--json-out', default=None,
                   help='also write the JSON result to this file')
    return p


def variant_args(parser, argv, extra: str):
    args = parser.parse_args(argv + shlex.split(extra))
    args.cfg_options_raw = {k: str(v) for k, v in
                            (args.cfg_options or {}).items()}
    return args


def pair_ratios(a: dict, b: dict) -> dict:
    """The cheaper one's FLOP speed-up, its wall-clock speed-up, and their
    quotient (the share of the FLOP saving turned into time)."""
    cheap, heavy = (a, b) if a['flops_per_img'] <= b['flops_per_img'] \
        else (b, a)
    flop_ratio = heavy['flops_per_img'] / cheap['flops_per_img']
    time_ratio = cheap['img_per_s'] / heavy['img_per_s']
    return dict(cheap=cheap['label'], heavy=heavy['label'],
                flop_ratio=flop_ratio, time_ratio=time_ratio,
                realised_share=time_ratio / flop_ratio)


def register_cpu_attention_flops():
    """FlopCounterMode knows the CUDA fused-attention ops but not the CPU
    flash kernel that ``scaled_dot_product_attention`` takes here; count it
    with the same formulas (else the CPU attention FLOPs read as zero)."""
    from torch.utils import flop_counter as fc
    aten = torch.ops.aten
    pairs = [(getattr(aten, '_scaled_dot_product_flash_attention_for_cpu',
                      None), fc.sdpa_flop),
             (getattr(aten,
                      '_scaled_dot_product_flash_attention_for_cpu_backward',
                      None), fc.sdpa_backward_flop)]
    for op, formula in pairs:
        if op is not None and op not in fc.flop_registry:
            # the module-level formulas are already shape-wrapped
            fc.register_flop_formula(op, get_raw=True)(formula)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    base = variant_args(parser, argv, '')
    if base.threads:
        torch.set_num_threads(base.threads)
    init_default_scope('easymae')
    # mmengine logs every parameter's paramwise option at INFO
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    register_cpu_attention_flops()
    if base.model in MULTI_VIEW:
        # as the runner posts it: a steady-state iteration of a long run,
        # so that the EMA update of the momentum encoder / teacher runs
        # (DINO skips it at iteration 0) and DINO's last layer trains
        from mmengine.logging import MessageHub
        hub = MessageHub.get_current_instance()
        for key, value in (('iter', 1000), ('max_iters', 100_000),
                           ('epoch', 1)):
            hub.update_info(key, value)
    if base.device == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda: no CUDA device is available')
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32

    # strip --compare and its values before re-parsing each variant
    if base.compare:
        cut = argv.index('--compare')
        rest = argv[:cut] + argv[cut + 1 + len(base.compare):]
        variants = [(e.strip() or 'as given', variant_args(parser, rest, e))
                    for e in base.compare]
    else:
        variants = [('as given', base)]

    peak_size = base.peak_size
    if peak_size is None:
        peak_size = 8192 if base.device == 'cuda' else 4096
    peak = None
    if peak_size:
        dtypes = ['fp32', 'bf16'] + (['fp16'] if base.device == 'cuda'
                                     else [])
        if base.device == 'cpu' and cpu_matrix_capability() == 'none' and \
                not any(a.amp for _, a in variants):
            # no bf16 matrix instructions: a bf16 4096^3 product is
            # emulated (~0.15 GFLOP/s, hours); only fp32 is asked for
            dtypes = ['fp32']
        peak = MatmulPeak(base.device, peak_size, dtypes)

    benches = []
    for label, args in variants:
        torch.manual_seed(0)
        b = Bench(args, label)
        b.warmup()
        if not args.no_flops:
            b.count_flops()
        benches.append(b)
        print(f'built {label}: {b.params / 1e6:.1f} M params, '
              f'{(b.flops_per_img or 0) / 1e9:.2f} GFLOP/img', flush=True)

    # round-robin: every configuration and the matmul peak once per round,
    # so that load from elsewhere on the machine hits them alike.
    for r in range(base.repeats):
        for b in benches:
            b.time_repeat()
        if peak:
            peak.measure()
        print(f'round {r + 1}/{base.repeats}: ' + ', '.join(
            f'{b.label} {b.args.batch / b.times[-1]:.2f} img/s'
            for b in benches), flush=True)

    if base.profile:
        profile_steps(benches[0])
    peaks = peak.peaks() if peak else {}
    best_peaks = {k: max(v) for k, v in peak.rates.items() if v} \
        if peak else {}
    results = [b.result(peaks, best_peaks) for b in benches]
    if base.breakdown:
        for b, r in zip(benches, results):
            r['breakdown'] = breakdown_steps(b, max(1, b.args.steps))
            print_breakdown(b.label, r['breakdown'])
    ratios = []
    if len(results) > 1 and not base.no_flops:
        ratios = [dict(pair_ratios(a, b), a=a['label'], b=b['label'])
                  for i, a in enumerate(results) for b in results[i + 1:]
                  if a['amp'] == b['amp']]  # pairs in the same precision

    # ----- human-readable table
    cpu = describe_cpu() if base.device == 'cpu' else None
    print()
    if cpu:
        print(f'CPU {cpu_model()}: {cpu}')
    print(f"{'configuration':42s} {'img/s':>9s} {'GFLOP/img':>10s} "
          f"{'TFLOP/s':>8s} {'%peak':>6s} {'mem MB':>8s} {'vs 1st':>7s}")
    for r in results:
        share = r.get('share_of_matmul_peak')
        mem = r['peak_mem_mb']
        print(f"{r['label'][:42]:42s} {r['img_per_s']:9.2f} "
              f"{(r['flops_per_img'] or 0) / 1e9:10.2f} "
              f"{r['achieved_tflops']:8.3f} "
              f"{'' if share is None else f'{100 * share:5.1f}%':>6s} "
              f"{'' if mem is None else f'{mem:8.0f}':>8s} "
              f"{r['img_per_s'] / results[0]['img_per_s']:6.2f}x")
    for k, v in peaks.items():
        print(f'matmul peak {k} ({peak_size}^3): {v / 1e12:.3f} TFLOP/s')
    for q in ratios:
        print(f"{q['cheap']} vs {q['heavy']}: FLOP ratio "
              f"{q['flop_ratio']:.2f}x, wall-clock ratio "
              f"{q['time_ratio']:.2f}x, realised share "
              f"{q['realised_share']:.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    first = results[0]
    out = dict(
        img_per_s=first['img_per_s'], flops_per_img=first['flops_per_img'],
        results=results, ratios=ratios,
        matmul_peak_flops=peaks, matmul_peak_size=peak_size,
        matmul_peak_per_round=peak.rates if peak else {},
        process_peak_rss_mb=rss_mb,
        machine=dict(
            host=platform.node(), cpu=platform.processor() or
            platform.machine(), cpu_model=cpu_model(),
            cpu_matrix=cpu_matrix_capability(), cpu_matrix_text=cpu,
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            gpu=(torch.cuda.get_device_name()
                 if base.device == 'cuda' else None)),
        command='python benchmarks/train_step.py ' + ' '.join(
            shlex.quote(a) for a in argv))
    emit(out, base.json_out)
    return out


if __name__ == '__main__':
    main()
