from .checkpoint_hook import CheckpointHook
from .reconstruction_hook import ReconstructionHook

__all__ = ['CheckpointHook', 'ReconstructionHook']
