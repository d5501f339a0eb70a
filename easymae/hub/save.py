"""Write a state dict as ``.safetensors`` or ``.pth``, atomically."""
import io
import json
from typing import Dict

import torch

from easymae.fileio.atomic import atomic_write_bytes


def save_weights(obj, path: str) -> None:
    """``path`` ending in ``.safetensors``: a flat dict of tensors saved
    with safetensors (metadata strings allowed under ``__metadata__``);
    anything else: ``torch.save`` of ``obj``, which must then still load
    with ``weights_only=True``. Written to a temporary name and renamed."""
    if path.endswith('.safetensors'):
        from safetensors.torch import save
        tensors: Dict[str, torch.Tensor] = obj.get('state_dict', obj) \
            if isinstance(obj, dict) else obj
        tensors = {k: v.contiguous() for k, v in tensors.items()
                   if isinstance(v, torch.Tensor)}
        metadata = {'format': 'pt'}
        if isinstance(obj, dict) and isinstance(obj.get('meta'), dict):
            metadata.update({str(k): str(v) for k, v in obj['meta'].items()
                             if isinstance(v, (str, int, float, bool))})
            # safetensors metadata is str -> str: lists (class names) as
            # JSON
            metadata.update({str(k): json.dumps(v)
                             for k, v in obj['meta'].items()
                             if isinstance(v, list)})
        atomic_write_bytes(save(tensors, metadata=metadata), path)
        return
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), path)
