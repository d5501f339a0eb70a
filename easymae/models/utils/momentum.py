"""Momentum (EMA) encoders: the update rule, its cosine schedule, and where
in training we are.

MoCo v3 and DINO both keep a second encoder whose weights are an
exponential moving average of the trained one,
``theta_m <- m * theta_m + (1 - m) * theta``, with ``m`` raised from its
base value to 1 by a half cosine over training.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MessageHub


def check_momentum(owner: str, name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'{owner}: {name} must be in [0, 1], got {value}')
    return float(value)


def cosine_momentum(base: float, it: int, max_iters: Optional[int],
                    end: float = 1.0) -> float:
    """``end - (end - base) * (1 + cos(pi * it / max_iters)) / 2``: ``base``
    at the first iteration, ``end`` after the last (MoCo v3's
    ``adjust_moco_momentum``, DINO's ``momentum_schedule``). Without a
    known length the base value is used."""
    if not max_iters:
        return base
    t = min(max(it / max_iters, 0.0), 1.0)
    return end - (end - base) * (1 + math.cos(math.pi * t)) / 2


@torch.no_grad()
def ema_update_(target: nn.Module, source: nn.Module, m: float) -> None:
    """``target <- m * target + (1 - m) * source`` over parameters (not
    buffers: the momentum encoder's BatchNorm keeps its own statistics)."""
    t_params = list(target.parameters())
    s_params = [p.detach() for p in source.parameters()]
    if len(t_params) != len(s_params):
        raise RuntimeError(f'EMA update: the momentum copy has '
                           f'{len(t_params)} parameters, its source '
                           f'{len(s_params)}')
    torch._foreach_mul_(t_params, m)
    torch._foreach_add_(t_params, s_params, alpha=1 - m)


def training_progress() -> Tuple[int, Optional[int], int]:
    """(iteration, max iterations, epoch) of the running training loop, as
    mmengine's ``RuntimeInfoHook`` posts them before every iteration; (0,
    None, 0) outside a runner."""
    hub = MessageHub.get_current_instance()
    return (int(hub.get_info('iter', 0) or 0), hub.get_info('max_iters'),
            int(hub.get_info('epoch', 0) or 0))
