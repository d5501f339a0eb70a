"""The bottom layer: file I/O that every other part of easymae shares.

Atomic writes, the one safe checkpoint loader (safetensors or
``torch.load(weights_only=True)``, the file named on every error), the one
strict load of its tensors into a module, the run's config stored in a
checkpoint as data, cached
and verified downloads, and shared constants. Imports nothing of easymae.
"""
from .atomic import (
    CheckpointWriteError,
    atomic_write_bytes,
    check_writable_dir,
    remove_stale_temporaries,
)
from .checkpoint_config import (
    CheckpointConfigError,
    UnsafeConfigError,
    config_to_json,
    read_checkpoint_config,
)
from .constants import IMAGENET_MEAN, IMAGENET_STD
from .download import (
    DownloadError,
    HashMismatchError,
    OfflineError,
    download_url,
    get_cache_dir,
)
from .safe_load import CheckpointFormatError, UnsafeCheckpointError, load_file
from .state_dict import (
    CheckpointKindError,
    CheckpointMismatchError,
    LoadReport,
    describe_checkpoint,
    is_training_checkpoint,
    load_checkpoint_into,
    load_state_dict_strict,
    state_dict_of,
)

__all__ = ['CheckpointWriteError', 'atomic_write_bytes', 'check_writable_dir',
           'remove_stale_temporaries', 'IMAGENET_MEAN', 'IMAGENET_STD',
           'DownloadError', 'HashMismatchError', 'OfflineError',
           'download_url', 'get_cache_dir', 'CheckpointFormatError',
           'UnsafeCheckpointError', 'load_file', 'CheckpointKindError',
           'CheckpointMismatchError', 'LoadReport', 'describe_checkpoint',
           'is_training_checkpoint', 'load_checkpoint_into',
           'load_state_dict_strict', 'state_dict_of', 'UnsafeConfigError',
           'CheckpointConfigError', 'config_to_json', 'read_checkpoint_config']
