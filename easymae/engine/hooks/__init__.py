from .checkpoint_hook import CheckpointHook
from .nan_guard_hook import NaNGuardHook, NonFiniteError

__all__ = ['CheckpointHook', 'NaNGuardHook', 'NonFiniteError']
