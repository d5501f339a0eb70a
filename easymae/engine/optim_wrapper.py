"""Mixed precision that works on the CPU as well as on CUDA.

mmengine's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU device. This one
autocasts on whatever device the model is on: bf16 by default (no loss
scaling needed, and the CPUs here run bf16 matmuls ~5x faster than fp32), or
fp16 with a dynamic ``GradScaler``. It is registered under mmengine's name in
the ``easymae`` scope, so ``--amp`` and existing configs pick it up.
"""
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from easymae.registry import OPTIM_WRAPPERS
from .precision import precision_problem

_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16,
           'float16': torch.float16, 'fp16': torch.float16}


@OPTIM_WRAPPERS.register_module(name='AmpOptimWrapper', force=True)
class AmpOptimWrapper(OptimWrapper):
    """Args:
        dtype: 'bfloat16' (default) or 'float16'.
        loss_scale: for fp16 only: 'dynamic', a float (static), or a dict of
            ``GradScaler`` arguments.
        device_type: 'cuda' or 'cpu'; defaults to CUDA when present.
    """

    def __init__(self, dtype: Union[str, torch.dtype, None] = 'bfloat16',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 device_type: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        if dtype is None:
            dtype = 'bfloat16'
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ValueError(f'AmpOptimWrapper: dtype must be one of '
                                 f'{sorted(_DTYPES)}, got {dtype!r}')
            dtype = _DTYPES[dtype]
        self.cast_dtype = dtype
        self.device_type = device_type or (
            'cuda' if torch.cuda.is_available() else 'cpu')
        self.loss_scaler = None
        problem = precision_problem(dtype, self.device_type)
        if problem:
            raise ValueError(f'{type(self).__name__}: {problem}')
        if dtype == torch.float16:
            if loss_scale == 'dynamic':
                self.loss_scaler = torch.amp.GradScaler(self.device_type)
            elif isinstance(loss_scale, dict):
                self.loss_scaler = torch.amp.GradScaler(self.device_type,
                                                        **loss_scale)
            else:
                self.loss_scaler = torch.amp.GradScaler(
                    self.device_type, init_scale=float(loss_scale),
                    growth_interval=2**31 - 1)  # static: never grows

    def backward(self, loss: torch.Tensor, **kwargs):
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs):
        if self.loss_scaler is None:
            return super().step(**kwargs)
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict):
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=self.cast_dtype):
            yield
