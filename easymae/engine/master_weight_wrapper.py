"""bf16 parameters with fp32 master weights held by the optimizer.

Under plain autocast (``AmpOptimWrapper``) the parameters stay fp32 and
every matmul re-casts its weight to bf16 in every forward (and the weight
gradient back to fp32 in every backward): on a CPU with AMX those casts
took about a quarter of an MAE ViT-B step. Here the model's parameters are
cast to bf16 once, so forward and backward run on bf16 weights and produce
bf16 gradients, while the optimizer updates an fp32 copy of each parameter
(its "master"):

1. after each backward the bf16 gradients are added into the masters'
   fp32 gradients and dropped (gradient accumulation sums in fp32);
2. clipping and the optimizer step run on the masters, in fp32;
3. the masters are copied (rounded) into the bf16 parameters.

An update smaller than bf16's resolution (2^-8 relative) is not lost: it
accumulates in the master until the rounded value moves. Autocast stays on
around the forward, for the fp32 inputs and the ops autocast keeps in fp32
(losses); it no longer has weights to cast.

The conversion happens when the first training step enters
``optim_context``, after ``load_from`` / ``resume`` have filled the fp32
model. From then on the model's ``state_dict()`` (and mmengine's
``get_state_dict``, which checkpoints use) returns the fp32 masters, so a
checkpoint saved in this mode loads into an fp32 model, and every
converter sees fp32 weights; loading a state dict sets both the masters
and the bf16 parameters. The data preprocessor (and any module named in
``keep_fp32``) is left in fp32.

Not for: models wrapped by DDP / FSDP (their gradient buckets are built
for the fp32 parameters; refused), and parameters that change outside the
optimizer during training (momentum encoders), whose in-place updates
would then happen in bf16 (use ``AmpOptimWrapper`` for those).
"""
from contextlib import contextmanager
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper

from easymae.registry import OPTIM_WRAPPERS
from .optim_wrapper import AmpOptimWrapper


@OPTIM_WRAPPERS.register_module()
class BF16MasterWeightOptimWrapper(AmpOptimWrapper):
    """Args:
        device_type: 'cuda' or 'cpu'; defaults to CUDA when present.
        keep_fp32: names of submodules left in fp32 (default: the data
            preprocessor, whose mean/std would round in bf16).
        Other arguments as mmengine's ``OptimWrapper`` (``clip_grad``,
        ``accumulative_counts``).
    """

    def __init__(self, device_type: Optional[str] = None,
                 keep_fp32: Sequence[str] = ('data_preprocessor',),
                 **kwargs):
        dtype = kwargs.pop('dtype', None)
        if dtype not in ('bfloat16', 'bf16', torch.bfloat16, None):
            raise ValueError('BF16MasterWeightOptimWrapper: dtype is '
                             f'bfloat16 only, got {dtype!r}')
        kwargs.pop('loss_scale', None)
        super().__init__(dtype='bfloat16', device_type=device_type,
                         **kwargs)
        self.keep_fp32 = tuple(keep_fp32)
        self.pairs = []  # (bf16 parameter, fp32 master), optimizer order
        self._grad_bufs = {}  # id(master) -> its reused fp32 gradient
        self.converted = False

    # ------------------------------------------------------ conversion
    def convert(self, model: nn.Module) -> None:
        """Cast ``model``'s parameters and floating buffers to bf16 (except
        under ``keep_fp32``) and put fp32 masters in the optimizer."""
        if self.converted:
            return
        if is_model_wrapper(model) or any(
                'FSDP' in type(m).__name__ for m in model.modules()):
            raise NotImplementedError(
                'BF16MasterWeightOptimWrapper: DDP/FSDP-wrapped models are '
                'not supported (their gradient buckets hold the fp32 '
                'parameters); use AmpOptimWrapper')
        keep = tuple(f'{n}.' for n in self.keep_fp32)
        in_optimizer = {id(p) for g in self.optimizer.param_groups
                        for p in g['params']}
        masters = {}  # id(param) -> fp32 tensor (the original storage)
        names = {}    # state-dict key -> parameter
        for name, p in model.named_parameters(remove_duplicate=False):
            names[name] = p
            if name.startswith(keep) or id(p) in masters or \
                    p.dtype != torch.float32:
                continue
            master = p.data  # the fp32 storage, kept as is
            p.data = master.to(torch.bfloat16)
            if id(p) in in_optimizer:
                master.requires_grad_(True)  # clip_grad filters on this
            masters[id(p)] = master
        for mod_name, module in model.named_modules():
            if f'{mod_name}.'.startswith(keep):
                continue
            for key, buf in module._buffers.items():
                if buf is not None and buf.dtype == torch.float32:
                    module._buffers[key] = buf.to(torch.bfloat16)
        self._swap_into_optimizer(masters)
        self.pairs = [(p, masters[id(p)]) for g in self.optimizer.param_groups
                      for p in g.pop('_bf16_params')]
        self.masters_by_name = {n: (p, masters[id(p)])
                                for n, p in names.items() if id(p) in masters}
        model._register_state_dict_hook(self._state_dict_hook)
        model._register_load_state_dict_pre_hook(self._load_hook)
        self.converted = True

    def _swap_into_optimizer(self, masters: dict) -> None:
        state = self.optimizer.state
        for group in self.optimizer.param_groups:
            group['_bf16_params'] = list(group['params'])
            new = []
            for p in group['params']:
                m = masters.get(id(p))
                if m is None:
                    raise ValueError(
                        'BF16MasterWeightOptimWrapper: an optimizer '
                        'parameter is not an fp32 parameter of the model')
                if p in state:  # resumed optimizer state follows
                    state[m] = state.pop(p)
                new.append(m)
            group['params'] = new

    def _state_dict_hook(self, module, state_dict, prefix, local_metadata):
        for name, (p, master) in self.masters_by_name.items():
            key = prefix + name
            if key not in state_dict:
                continue
            # a frozen parameter changed in place (not by the optimizer)
            # has moved away from its master: save what it is now
            if not master.requires_grad and \
                    not torch.equal(p.data, master.to(p.dtype)):
                state_dict[key] = p.detach().float()
            else:
                state_dict[key] = master.detach()
        return state_dict

    def _load_hook(self, state_dict, prefix, *args):
        with torch.no_grad():
            for name, (_, master) in self.masters_by_name.items():
                value = state_dict.get(prefix + name)
                if value is not None and value.shape == master.shape:
                    master.copy_(value)

    # -------------------------------------------------------- the step
    @contextmanager
    def optim_context(self, model: nn.Module):
        self.convert(model)
        with super().optim_context(model):
            yield

    def backward(self, loss: torch.Tensor, **kwargs):
        loss.backward(**kwargs)
        self._inner_count += 1
        self._move_grads()

    def _move_grads(self):
        # fp32 gradient buffers are kept across steps (the masters' .grad
        # is only unset by zero_grad): a fresh 4-byte-per-parameter
        # allocation every step costs page faults as well as the copy
        new_p, new_m, add_p, add_m = [], [], [], []
        for p, m in self.pairs:
            if p.grad is None:
                continue
            if m.grad is None:
                buf = self._grad_bufs.get(id(m))
                if buf is None:
                    buf = self._grad_bufs[id(m)] = torch.empty_like(m)
                m.grad = buf
                new_p.append(p.grad)
                new_m.append(buf)
            else:
                add_p.append(p.grad)
                add_m.append(m.grad)
            p.grad = None
        if new_m:
            torch._foreach_copy_(new_m, new_p)
        if add_m:
            torch._foreach_add_(add_m, add_p)

    def step(self, **kwargs):
        super().step(**kwargs)
        with torch.no_grad():
            params = [p for p, _ in self.pairs]
            if params:
                torch._foreach_copy_(params, [m for _, m in self.pairs])

    def zero_grad(self, **kwargs):
        super().zero_grad(**kwargs)
        for p, _ in self.pairs:
            p.grad = None
