from .bad_image_counter_hook import BadImageCounterHook
from .checkpoint_hook import CheckpointHook
from .nan_guard_hook import NaNGuardHook, NonFiniteError

__all__ = ['BadImageCounterHook', 'CheckpointHook', 'NaNGuardHook',
           'NonFiniteError']
