"""Load a checkpoint file without ever running code from it.

``.safetensors`` files are read with safetensors (pure data). Everything
else goes through ``torch.load(weights_only=True)``, whose unpickler only
rebuilds tensors and plain containers; a pickle that names any other
callable (the ``__reduce__`` trick) is refused before anything runs, and
the refusal is turned into an error that names the file.
"""
import os
import pickle
from typing import Any

import torch

from .dcp import is_dcp_folder, load_dcp_checkpoint
from .errors import CheckpointFormatError, UnsafeCheckpointError

__all__ = ['CheckpointFormatError', 'UnsafeCheckpointError', 'load_file']


def _is_safetensors(path: str) -> bool:
    if path.endswith('.safetensors'):
        return True
    # header: 8-byte little-endian length, then a JSON object
    with open(path, 'rb') as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b'{' and \
        int.from_bytes(head[:8], 'little') < os.path.getsize(path)


def load_file(path: str, map_location='cpu') -> Any:
    """The object stored in a checkpoint file, loaded safely. A sharded
    (DCP) checkpoint folder comes back as ``{'state_dict', 'meta'}``."""
    if is_dcp_folder(path):
        return load_dcp_checkpoint(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    if _is_safetensors(path):
        from safetensors.torch import load_file as load_safetensors
        try:
            device = map_location if isinstance(map_location, str) else 'cpu'
            return load_safetensors(path, device=device)
        except Exception as e:  # safetensors raises its own error types
            raise CheckpointFormatError(
                f'{path}: not a readable safetensors file ({e})') from None
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = _culprit(str(e))
        if 'weights_only' in str(e) or 'Unsupported' in str(e):
            raise UnsafeCheckpointError(
                f'{path}: refused to load this checkpoint: it holds Python '
                'objects other than tensors and plain values, so loading '
                'it could run code. Nothing from it was executed. '
                f'(refused: {first}) If you '
                'trust the file, re-save its tensors only, e.g. as '
                'safetensors.') from None
        raise CheckpointFormatError(
            f'{path}: not a torch checkpoint ({first})') from None
    except Exception as e:  # zip/pickle parsers raise many kinds
        raise CheckpointFormatError(
            f'{path}: not a readable torch checkpoint ({e})') from None


def _culprit(message: str) -> str:
    """The line of torch's long message that names the refused global."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for line in lines:
        if 'Unsupported' in line or 'GLOBAL' in line:
            return line.split('. Please use')[0].replace(
                'WeightsUnpickler error: ', '')
    return lines[0] if lines else ''
