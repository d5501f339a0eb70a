from .bad_image_counter_hook import BadImageCounterHook
from .checkpoint_hook import CheckpointHook
from .nan_guard_hook import NaNGuardHook, NonFiniteError
from .reconstruction_hook import ReconstructionHook
from .sampler_seed_hook import DistSamplerSeedHook
from .text_vocab_hook import TextVocabHook

__all__ = ['BadImageCounterHook', 'CheckpointHook', 'DistSamplerSeedHook',
           'NaNGuardHook',
           'NonFiniteError', 'ReconstructionHook', 'TextVocabHook']
