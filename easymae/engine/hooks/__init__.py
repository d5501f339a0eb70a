from .checkpoint_hook import CheckpointHook

__all__ = ['CheckpointHook']
