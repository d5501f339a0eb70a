"""Model zoo and checkpoint hub: download, verify, cache, convert, load.

Checkpoints from outside are never unpickled with code execution: they load
with ``torch.load(weights_only=True)`` or from safetensors, and go into a
model through the one strict loader of ``easymae.fileio.state_dict``.
"""
from easymae.fileio.download import (  # noqa: F401
                                     DownloadError,
                                     HashMismatchError,
                                     OfflineError,
                                     download_url,
                                     get_cache_dir,
)
from easymae.fileio.safe_load import (  # noqa: F401
                                     CheckpointFormatError,
                                     UnsafeCheckpointError,
                                     load_file,
)
from .convert import (  # noqa
                                     Conversion,
                                     ConversionError,
                                     check_complete,
                                     to_easymae,
                                     to_timm,
)
from .layouts import LAYOUTS, UnknownLayoutError, detect_layout  # noqa
from .pretrained import (  # noqa
                                     CheckpointMismatchError,
                                     PretrainedInit,
                                     load_backbone_state,
                                     load_model_checkpoint,
                                     load_pretrained_backbone,
)
from .resolve import load_checkpoint, resolve_checkpoint, resolve_load_from  # noqa: F401
from .zoo import fetch, get_entry, list_models, load_zoo  # noqa: F401
