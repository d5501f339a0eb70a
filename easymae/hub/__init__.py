"""Model zoo and checkpoint hub: download, verify, cache, convert, load.

Checkpoints from outside are never unpickled with code execution: they load
with ``torch.load(weights_only=True)`` or from safetensors, and go into a
model through the one strict loader of ``easymae.fileio.state_dict``.
"""
from easymae.fileio.download import (DownloadError,  # noqa: F401
                                     HashMismatchError, OfflineError,
                                     download_url, get_cache_dir)
from easymae.fileio.safe_load import (CheckpointFormatError,  # noqa: F401
                                      UnsafeCheckpointError, load_file)
from .convert import (Conversion, ConversionError, check_complete,  # noqa
                      to_easymae, to_timm)
from .layouts import LAYOUTS, UnknownLayoutError, detect_layout  # noqa
from .pretrained import (CheckpointMismatchError, PretrainedInit,  # noqa
                         load_backbone_state, load_model_checkpoint,
                         load_pretrained_backbone)
from .resolve import (load_checkpoint, resolve_checkpoint,  # noqa: F401
                      resolve_load_from)
from .zoo import fetch, get_entry, list_models, load_zoo  # noqa: F401
