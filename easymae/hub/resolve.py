"""Anything that names a checkpoint -> a local file -> its tensors, safely.

A checkpoint may be named by a model-zoo name, an http(s) URL or a local
path. Zoo files and URLs are downloaded once into the cache; everything is
loaded with ``torch.load(weights_only=True)`` or safetensors.
"""
import os
import os.path as osp
from typing import Any, Optional
from urllib.parse import urlparse

from easymae.fileio.dcp import is_dcp_folder
from easymae.fileio.download import cache_path, download_url, verify_checkpoint
from easymae.fileio.safe_load import load_file
from .zoo import fetch, load_zoo


def is_url(name: str) -> bool:
    return urlparse(str(name)).scheme in ('http', 'https')


def resolve_checkpoint(name_or_url_or_path: str,
                       offline: Optional[bool] = None,
                       index: Optional[str] = None,
                       progress: bool = True) -> str:
    """A local path for a zoo name, URL or path (which must exist).

    Config keys that take a checkpoint (``load_from``, ``Pretrained``'s
    ``checkpoint``) go through this, so each accepts all three forms.
    """
    name = os.fspath(name_or_url_or_path)
    if is_url(name):
        # keyed on the whole URL; an unhashed file must load safely before
        # it is cached, and a cached one that does not is fetched again
        return download_url(name, cache_path(name), progress=progress,
                            offline=offline, verify=verify_checkpoint)
    if osp.exists(name):
        if not osp.isfile(name) and not is_dcp_folder(name):
            raise IsADirectoryError(f'checkpoint {name!r} is a directory, '
                                    'not a file')
        return name
    if name in load_zoo(index):
        return fetch(name, index, offline=offline, progress=progress)
    raise FileNotFoundError(
        f'checkpoint {name!r} not found: it is neither an existing file, '
        'an http(s) URL, nor a model-zoo name (see easymae.list_models())')


def load_checkpoint(name_or_url_or_path: str, map_location='cpu',
                    offline: Optional[bool] = None,
                    index: Optional[str] = None) -> Any:
    """Resolve and load a checkpoint without running code from it."""
    path = resolve_checkpoint(name_or_url_or_path, offline=offline,
                              index=index)
    return load_file(path, map_location=map_location)


def resolve_load_from(cfg) -> None:
    """Let a config's ``load_from`` be a zoo name or URL (in place)."""
    if cfg.get('load_from'):
        cfg.load_from = resolve_checkpoint(cfg.load_from)
