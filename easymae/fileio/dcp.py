"""Reading ``torch.distributed.checkpoint`` (DCP) folders without running
code.

A DCP folder holds one ``.distcp`` file per writing rank and a
``.metadata`` file. torch reads ``.metadata`` with plain ``pickle.load``
and non-tensor items (optimizer hyper-parameters) with
``torch.load(weights_only=False)``: a crafted folder could run code on
load. Here ``.metadata`` is unpickled by a restricted unpickler that
builds only DCP's own metadata classes and a few torch/builtin values, and
non-tensor items go through ``torch.load(weights_only=True)``. Tensor
items were already read with ``weights_only=True`` by torch.
"""
import io
import os
import pickle
import warnings
from typing import Dict, Optional

import torch

from .errors import CheckpointFormatError, UnsafeCheckpointError

METADATA_FILE = '.metadata'
# what an easymae training checkpoint keeps beside the shards (plain data)
EXTRA_FILE = 'extra.pth'

_ALLOWED = {
    'torch.distributed.checkpoint.metadata': {
        'Metadata', 'TensorStorageMetadata', 'BytesStorageMetadata',
        'ChunkStorageMetadata', 'TensorProperties', '_MEM_FORMAT_ENCODING',
        'StorageMeta', 'MetadataIndex'},
    'torch.distributed.checkpoint.filesystem': {'_StorageInfo'},
    'torch.distributed.checkpoint._extension': {'StreamTransformExtension'},
    'torch': {'Size', 'strided', 'sparse_coo', 'contiguous_format',
              'channels_last', 'preserve_format'} | {
        name for name in dir(torch) if isinstance(getattr(torch, name, None),
                                                   torch.dtype)},
    # torch.strided pickles as _get_layout('torch.strided')
    'torch.serialization': {'_get_layout'},
    # StorageMeta.checkpoint_id: the folder it was saved to
    'pathlib': {'Path', 'PosixPath', 'PurePosixPath', 'WindowsPath',
                'PureWindowsPath'},
    'collections': {'OrderedDict'},
    'builtins': {'set', 'frozenset', 'slice', 'tuple', 'list', 'dict'},
}


class _MetadataUnpickler(pickle.Unpickler):

    def __init__(self, stream, path: str):
        super().__init__(stream)
        self.path = path

    def find_class(self, module: str, name: str):
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise UnsafeCheckpointError(
            f'{self.path}: refused to load {module}.{name}; a DCP .metadata '
            'file holds only checkpoint metadata classes, so this folder was '
            'not written by torch.distributed.checkpoint (or was tampered '
            'with). Nothing was loaded')


def is_dcp_folder(path) -> bool:
    return os.path.isdir(str(path)) and os.path.isfile(
        os.path.join(str(path), METADATA_FILE))


def read_dcp_metadata(folder: str):
    """The ``Metadata`` of a DCP folder, unpickled without running code."""
    from torch.distributed.checkpoint.metadata import Metadata
    path = os.path.join(str(folder), METADATA_FILE)
    if not os.path.isfile(path):
        raise CheckpointFormatError(
            f'{folder}: not a sharded checkpoint (no {METADATA_FILE} file; '
            'a save interrupted before it finished leaves none)')
    with open(path, 'rb') as f:
        try:
            metadata = _MetadataUnpickler(f, path).load()
        except UnsafeCheckpointError:
            raise
        except Exception as e:
            raise CheckpointFormatError(
                f'{path}: not a readable DCP metadata file ({e})') from None
    if not isinstance(metadata, Metadata):
        raise CheckpointFormatError(
            f'{path}: holds {type(metadata).__name__}, not DCP Metadata')
    return metadata


def safe_reader(folder: str):
    """A ``FileSystemReader`` whose metadata is read by the restricted
    unpickler."""
    from torch.distributed.checkpoint import FileSystemReader
    from torch.distributed.checkpoint.metadata import StorageMeta

    class SafeFileSystemReader(FileSystemReader):

        def read_metadata(self, *args, **kwargs):
            rank = kwargs.get('rank')
            if rank is not None:
                raise CheckpointFormatError(
                    f'{folder}: per-rank metadata files are not supported')
            metadata = read_dcp_metadata(folder)
            if getattr(metadata, 'storage_meta', None) is None:
                metadata.storage_meta = StorageMeta()
            metadata.storage_meta.load_id = self.load_id
            return metadata

    return SafeFileSystemReader(str(folder))


def safe_planner(**kwargs):
    """DCP's default load planner, reading non-tensor items with
    ``weights_only=True``."""
    from torch.distributed.checkpoint._nested_dict import set_element
    from torch.distributed.checkpoint.default_planner import DefaultLoadPlanner

    class SafeLoadPlanner(DefaultLoadPlanner):

        def load_bytes(self, read_item, value: io.BytesIO) -> None:
            fqn = read_item.dest_index.fqn
            try:
                obj = torch.load(value, weights_only=True)
            except pickle.UnpicklingError as e:
                raise UnsafeCheckpointError(
                    f'sharded checkpoint item {fqn!r}: refused to unpickle '
                    f'it ({_culprit(e)}); only plain values are allowed, '
                    'nothing from it was run') from None
            if self.flatten_state_dict:
                set_element(self.original_state_dict, self.mappings[fqn], obj)
            else:
                self.state_dict[fqn] = obj

    return SafeLoadPlanner(**kwargs)


def _culprit(err: Exception) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for line in lines:
        if 'Unsupported' in line or 'GLOBAL' in line:
            return line
    return lines[0] if lines else type(err).__name__


def dcp_load(state: dict, folder: str, **planner_kwargs) -> None:
    """``torch.distributed.checkpoint.load`` of ``folder`` into ``state``
    through the safe reader and planner; a refusal on any rank comes out
    as :class:`UnsafeCheckpointError` (DCP wraps errors per rank)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.api import CheckpointException
    no_dist = planner_kwargs.pop('no_dist', False)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*single process')
            dcp.load(state, storage_reader=safe_reader(folder),
                     planner=safe_planner(**planner_kwargs), no_dist=no_dist)
    except CheckpointException as err:
        for failure in err.failures.values():
            failure = failure[0] if isinstance(failure, tuple) else failure
            if isinstance(failure, (UnsafeCheckpointError,
                                    CheckpointFormatError)):
                raise failure from None
        raise


def tensor_shapes(metadata, prefix: str = '') -> Dict[str, tuple]:
    """{key without ``prefix``: global shape} of the tensors under
    ``prefix``."""
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata
    return {key[len(prefix):]: tuple(item.size)
            for key, item in metadata.state_dict_metadata.items()
            if key.startswith(prefix) and
            isinstance(item, TensorStorageMetadata)}


def load_full_tensors(folder: str, prefix: str = 'model.',
                      keys: Optional[list] = None) -> Dict[str, torch.Tensor]:
    """Every tensor under ``prefix`` of a DCP folder as one whole CPU
    tensor (the shards of all ranks joined), keys without ``prefix``.
    Needs no process group."""
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata
    metadata = read_dcp_metadata(folder)
    state = {}
    for key, item in metadata.state_dict_metadata.items():
        if not key.startswith(prefix) or \
                not isinstance(item, TensorStorageMetadata):
            continue
        if keys is not None and key[len(prefix):] not in keys:
            continue
        state[key] = torch.empty(tuple(item.size),
                                 dtype=item.properties.dtype)
    if not state:
        raise CheckpointFormatError(
            f'{folder}: no tensors under {prefix!r} in this sharded '
            'checkpoint')
    # keys are already flat, so the planner must not re-flatten them;
    # every caller reads the whole folder by itself (no_dist)
    dcp_load(state, folder, flatten_state_dict=False, no_dist=True)
    return {key[len(prefix):]: value for key, value in state.items()}


def load_dcp_checkpoint(folder: str) -> dict:
    """A sharded checkpoint as the single-file form: ``{'state_dict': the
    whole model, 'meta': its meta}`` (no optimizer state)."""
    checkpoint = {'state_dict': load_full_tensors(folder, 'model.')}
    extra = os.path.join(str(folder), EXTRA_FILE)
    if os.path.isfile(extra):
        try:
            meta = torch.load(extra, weights_only=True).get('meta')
        except pickle.UnpicklingError as e:
            raise UnsafeCheckpointError(
                f'{extra}: refused to load it ({str(e).splitlines()[0]}); '
                'only tensors and plain values are allowed') from None
        if isinstance(meta, dict):
            meta = {k: v for k, v in meta.items() if k != 'rng_state'}
            checkpoint['meta'] = meta
    return checkpoint
