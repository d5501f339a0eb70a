"""Zoo entries hosted on the Hugging Face Hub: ``hf-hub:ORG/NAME[@REV]``.

The file is fetched by ``huggingface_hub.hf_hub_download`` (its cache, its
resume, $HF_ENDPOINT and $HF_TOKEN), into ``<easymae cache>/hf`` so that
$EASYMAE_HOME keeps everything in one place. It then passes the same checks
as a URL download before anyone loads it: sha256 / md5 / size when the
entry gives them, and a safe load. A file that fails is removed from the
Hub cache, so the next call fetches it again instead of trusting it.
"""
import os
from typing import Callable, Optional, Tuple

from easymae.fileio.download import (
    DownloadError,
    HashMismatchError,
    OfflineError,
    check_hashes,
    get_cache_dir,
    is_offline,
)

PREFIX = 'hf-hub:'
DEFAULT_FILE = 'model.safetensors'


def is_hf_hub(url: str) -> bool:
    return isinstance(url, str) and url.startswith(PREFIX)


def parse(url: str) -> Tuple[str, Optional[str]]:
    """``hf-hub:org/name@rev`` -> ('org/name', 'rev')."""
    spec = url[len(PREFIX):]
    repo, _, revision = spec.partition('@')
    if repo.count('/') != 1 or not all(repo.split('/')):
        raise ValueError(f'{url!r}: expected hf-hub:ORG/NAME or '
                         'hf-hub:ORG/NAME@REVISION')
    return repo, revision or None


def _forget(path: str) -> None:
    """Remove a cached Hub file: the snapshot link and the blob it names."""
    real = os.path.realpath(path)
    for p in {path, real}:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def fetch_hf_hub(url: str, filename: Optional[str] = None,
                 sha256: Optional[str] = None, md5: Optional[str] = None,
                 size: Optional[int] = None,
                 offline: Optional[bool] = None,
                 verify: Optional[Callable[[str], None]] = None) -> str:
    """Local path of ``filename`` (default ``model.safetensors``) in the
    Hub repository ``url`` names, downloaded once and verified."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise DownloadError(f'{url}: needs huggingface_hub (pip install '
                            'huggingface_hub)') from None
    repo, revision = parse(url)
    filename = filename or DEFAULT_FILE
    offline = is_offline(offline)
    try:
        path = hf_hub_download(repo, filename, revision=revision,
                               cache_dir=os.path.join(get_cache_dir(), 'hf'),
                               local_files_only=offline)
    except LocalEntryNotFoundError as e:
        if offline:
            raise OfflineError(f'{url} ({filename}) is not in the cache and '
                               'offline mode is on (EASYMAE_OFFLINE / '
                               'HF_HUB_OFFLINE)') from e
        raise DownloadError(f'{url} ({filename}): {e}') from e
    except Exception as e:  # HTTP errors, missing repo or file
        raise DownloadError(f'{url} ({filename}): {type(e).__name__}: '
                            f'{e}') from e
    try:
        if size is not None and os.path.getsize(path) != size:
            raise HashMismatchError(
                f'{url} ({filename}): size mismatch: expected {size} bytes, '
                f'got {os.path.getsize(path)}')
        check_hashes(path, sha256=sha256, md5=md5)
        if verify is not None:
            verify(path)
    except Exception:
        _forget(path)  # never trusted again: the next call fetches anew
        raise
    return path
