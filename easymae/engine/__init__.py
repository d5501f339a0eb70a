from . import (
    hooks,  # noqa: F401
    optimizers,  # noqa: F401
)
from .checkpoint_io import AtomicLocalBackend, atomic_write_bytes
from .dist import init_distributed
from .gradient_mask import GradientMaskOptimWrapper
from .loops import EpochBasedTrainLoop, IterBasedTrainLoop
from .master_weight_wrapper import BF16MasterWeightOptimWrapper
from .merged_groups_constructor import MergedGroupsOptimWrapperConstructor  # noqa: F401
from .optim_wrapper import AmpOptimWrapper
from .runner import EasyRunner

__all__ = ['AtomicLocalBackend', 'atomic_write_bytes', 'init_distributed',
           'EpochBasedTrainLoop', 'IterBasedTrainLoop',
           'AmpOptimWrapper', 'BF16MasterWeightOptimWrapper', 'EasyRunner',
           'GradientMaskOptimWrapper']
