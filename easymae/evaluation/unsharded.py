"""Whole parameters of a model trained with FSDP2 (``fully_shard``), for
code that calls its methods outside its ``forward``.

FSDP2 gathers a unit's parameters only around that unit's ``forward``;
anywhere else a sharded model's parameters are ``DTensor`` shards, and
calling, say, its text tower fails with ``got mixed torch.Tensor and
DTensor``. ``gathered(model)`` all-gathers every unit, and shards them
again on leaving. It is a collective: every rank must enter it, in the
same order, and run the same forward passes inside it.
"""
from contextlib import contextmanager

import torch.nn as nn


def is_sharded(model: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule
    return isinstance(model, FSDPModule)


@contextmanager
def gathered(model: nn.Module):
    """Whole parameters in every ``fully_shard`` unit of ``model``; nothing
    to do for a model that is not sharded."""
    from torch.distributed.fsdp import FSDPModule
    units = [m for m in model.modules() if isinstance(m, FSDPModule)]
    for unit in units:
        unit.unshard()
    try:
        yield model
    finally:
        for unit in units:
            unit.reshard()
