"""Fully sharded data parallel training (FSDP2, ``fully_shard``) as a config
switch::

    model_wrapper_cfg = dict(
        type='FSDP2',
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32'),
        activation_checkpointing=False,  # recompute each block in backward
        cpu_offload=False,               # parameters/grads/optimizer on CPU
        reshard_after_forward=True,      # ZeRO-3; False keeps them (ZeRO-2)
        shard_modules=None)              # regex over module names

Each transformer block (every element of a ``*blocks`` or ``layers``
``ModuleList``: the ViT's ``blocks.N``, the MAE decoder's
``decoder_blocks.N``, the text tower's ``blocks.N``) becomes one FSDP unit,
then the root takes what is left (embeddings, norms, heads). Parameters,
gradients and optimizer state are sharded over the ranks; each unit's
parameters are all-gathered just before it runs and freed after.

``fully_shard`` changes the model's class in place rather than wrapping it,
so the runner keeps the model itself: ``is_model_wrapper`` is False, there
is no ``.module``, and mmengine calls the model's own ``train_step``. Names
of parameters are unchanged (activation checkpointing uses the composable
``checkpoint``, which adds no ``_checkpoint_wrapped_module`` prefix), so
optimizer constructors (layer-wise lr decay) and state dicts see the usual
keys; the parameters are ``DTensor`` shards. The optimizer is built after
this (mmengine builds it in ``Runner.train``), so it holds the shards.

``fully_shard`` cannot shard a 0-dim parameter (FLIP's ``logit_scale``):
such parameters are left out of FSDP, kept whole on every rank (rank 0's
value), and their gradients averaged over the ranks by an all-reduce
right after backward accumulates them, which is what DDP does for them.
"""
import re
from typing import Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn

FSDP_TYPES = ('FSDP2', 'FullyShard')
DEFAULT_SHARD_PATTERN = r'(^|\.)(\w*blocks|layers)\.\d+$'

_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16,
           'float16': torch.float16, 'fp16': torch.float16,
           'float32': torch.float32, 'fp32': torch.float32}


def is_fsdp_config(model_wrapper_cfg) -> bool:
    return isinstance(model_wrapper_cfg, dict) and \
        model_wrapper_cfg.get('type') in FSDP_TYPES


def fsdp_config_problems(cfg) -> list:
    """What an FSDP2 run of ``cfg`` would ask for that is not supported
    yet, each naming its key: ``compile`` (not tried on sharded modules),
    an EMA hook (it would average shards as whole tensors) and
    ``save_best`` (mmengine's best-checkpoint bookkeeping expects one
    file, a sharded checkpoint is a folder)."""
    if not is_fsdp_config(cfg.get('model_wrapper_cfg')):
        return []
    problems = []
    if cfg.get('compile') not in (None, False):
        problems.append(f'compile={cfg.get("compile")!r}: not supported '
                        'with FSDP2 yet; set compile=False')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        name = hook.get('type') if isinstance(hook, dict) else None
        if isinstance(name, str) and 'EMA' in name:
            problems.append(f'custom_hooks[{i}].type={name!r}: EMA hooks '
                            'are not supported with FSDP2 yet')
    ckpt = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(ckpt, dict) and ckpt.get('save_best'):
        problems.append(f'default_hooks.checkpoint.save_best='
                        f'{ckpt["save_best"]!r}: not supported with FSDP2 '
                        'yet (a sharded checkpoint is a folder); keep the '
                        'last checkpoints instead (max_keep_ckpts)')
    return problems


def is_fully_sharded(model: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule
    return isinstance(model, FSDPModule)


def _dtype(value, key: str) -> Optional[torch.dtype]:
    if value is None or isinstance(value, torch.dtype):
        return value
    if value not in _DTYPES:
        raise ValueError(f'model_wrapper_cfg.mixed_precision.{key}={value!r}:'
                         f' expected one of {sorted(_DTYPES)} or None')
    return _DTYPES[value]


def mixed_precision_policy(cfg: Union[dict, None]):
    """``MixedPrecisionPolicy`` from a config dict of dtype names."""
    from torch.distributed.fsdp import MixedPrecisionPolicy
    cfg = dict(cfg or {})
    allowed = {'param_dtype', 'reduce_dtype', 'output_dtype',
               'cast_forward_inputs'}
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise ValueError(f'model_wrapper_cfg.mixed_precision: unknown '
                         f'key(s) {unknown}; allowed: {sorted(allowed)}')
    return MixedPrecisionPolicy(
        param_dtype=_dtype(cfg.get('param_dtype'), 'param_dtype'),
        reduce_dtype=_dtype(cfg.get('reduce_dtype'), 'reduce_dtype'),
        output_dtype=_dtype(cfg.get('output_dtype'), 'output_dtype'),
        cast_forward_inputs=bool(cfg.get('cast_forward_inputs', True)))


def blocks_to_shard(model: nn.Module, pattern: str) -> list:
    """(name, module) of every module whose name matches ``pattern``,
    outermost first; a match inside another match is left to its parent."""
    regex = re.compile(pattern)
    found = []
    for name, module in model.named_modules():
        if name and regex.search(name) and not any(
                name.startswith(outer + '.') for outer, _ in found):
            found.append((name, module))
    return found


def _broadcast_from_rank0(model: nn.Module) -> None:
    # as DDP does when it wraps: every rank starts from rank 0's weights
    if dist.get_world_size() == 1:
        return
    with torch.no_grad():
        for tensor in list(model.parameters()) + list(model.buffers()):
            dist.broadcast(tensor.data, src=0)


def _replicate_scalars(model: nn.Module) -> set:
    """The 0-dim parameters, each given a gradient hook that averages it
    over the ranks (FSDP neither shards nor reduces them)."""
    scalars = {p for p in model.parameters() if p.dim() == 0}
    world = dist.get_world_size()

    def average(param):
        if param.grad is not None and world > 1:
            dist.all_reduce(param.grad)
            param.grad.div_(world)
    for param in scalars:
        if param.requires_grad:
            param.register_post_accumulate_grad_hook(average)
    return scalars


def fully_shard_model(model: nn.Module, mixed_precision: Optional[dict] = None,
                      activation_checkpointing: bool = False,
                      cpu_offload: bool = False,
                      reshard_after_forward: bool = True,
                      shard_modules: Optional[str] = None,
                      logger=None) -> nn.Module:
    """Shard ``model`` in place per block, then at the root; returns it.

    Needs an initialised default process group (one process is fine)."""
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "model_wrapper_cfg type='FSDP2' needs a process group; start "
            'with torchrun ... --launcher pytorch (EasyRunner starts a '
            '1-process group itself when launcher is none)')
    if is_fully_sharded(model):
        return model
    _broadcast_from_rank0(model)
    kwargs = dict(mp_policy=mixed_precision_policy(mixed_precision),
                  reshard_after_forward=reshard_after_forward,
                  ignored_params=_replicate_scalars(model))
    if cpu_offload:
        # pinned memory needs CUDA; on a CPU-only machine it is plain memory
        kwargs['offload_policy'] = CPUOffloadPolicy(
            pin_memory=torch.cuda.is_available())
    pattern = shard_modules or DEFAULT_SHARD_PATTERN
    blocks = blocks_to_shard(model, pattern)
    if not blocks:
        raise ValueError(
            f'model_wrapper_cfg.shard_modules={pattern!r} matches no module '
            f'of {type(model).__name__}; FSDP2 would gather the whole model '
            'at once. Give a regex over module names (e.g. '
            r"'backbone\.blocks\.\d+$')")
    if activation_checkpointing:
        from torch.distributed._composable import checkpoint
        for _, block in blocks:
            checkpoint(block)
    for _, block in blocks:
        fully_shard(block, **kwargs)
    fully_shard(model, **kwargs)
    if logger is not None:
        mp = kwargs['mp_policy']
        logger.info(
            f'FSDP2: {len(blocks)} blocks + root sharded over '
            f'{dist.get_world_size()} process(es); params '
            f'{mp.param_dtype or "as stored"}, gradient reduction '
            f'{mp.reduce_dtype or "as params"}; activation checkpointing '
            f'{"on" if activation_checkpointing else "off"}; CPU offload '
            f'{"on" if cpu_offload else "off"}')
    return model


def start_single_process_group() -> str:
    """A 1-process group (gloo on CPU, nccl on CUDA) for FSDP2 without a
    launcher; returns the backend."""
    backend = 'nccl' if torch.cuda.is_available() else 'gloo'
    dist.init_process_group(backend=backend, store=dist.HashStore(),
                            rank=0, world_size=1)
    return backend


def local_state_bytes(model: nn.Module, optimizer=None) -> dict:
    """Bytes this rank holds for parameters, gradients and optimizer state
    (local shards of DTensors; whole tensors otherwise)."""
    def nbytes(t):
        if t is None or not isinstance(t, torch.Tensor):
            return 0
        local = t.to_local() if hasattr(t, 'to_local') else t
        return local.numel() * local.element_size()
    params = sum(nbytes(p) for p in model.parameters())
    grads = sum(nbytes(p.grad) for p in model.parameters())
    optim = 0
    if optimizer is not None:
        for state in optimizer.state.values():
            optim += sum(nbytes(v) for v in state.values())
    return dict(params=params, grads=grads, optimizer=optim,
                total=params + grads + optim)
