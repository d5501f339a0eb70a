"""The download cache: where an entry for a URL lives, the hashes and
checks a file must pass, and the small record beside each entry that lets
a later call trust it without checking it again."""
import hashlib
import json
import os
import threading
from typing import Callable, Optional
from urllib.parse import unquote, urlparse


class DownloadError(RuntimeError):
    """A download failed (HTTP error, timeout, too many retries)."""


class HashMismatchError(DownloadError):
    """A downloaded (or cached) file does not have the expected hash."""


class OfflineError(DownloadError):
    """Offline mode asked for a file that is not in the cache."""


def get_cache_dir() -> str:
    """``$EASYMAE_HOME`` or ``<torch hub dir>/easymae``."""
    home = os.environ.get('EASYMAE_HOME')
    if home:
        return os.path.expanduser(home)
    import torch.hub
    return os.path.join(torch.hub.get_dir(), 'easymae')


def url_filename(url: str, filename: Optional[str] = None) -> str:
    """The file name a download of ``url`` is stored under: ``filename``
    or the last part of the URL's path. A URL that names no file (its path
    ends in ``/``) is a ValueError."""
    name = filename or unquote(os.path.basename(urlparse(url).path))
    if not name or name in ('.', '..') or '/' in name or \
            (os.sep != '/' and os.sep in name):
        raise ValueError(
            f'{url!r} names no file (its path is empty or ends in "/"): '
            'give the URL of the file itself')
    return name


def cache_path(url: str, filename: Optional[str] = None,
               subdir: str = 'checkpoints',
               cache_dir: Optional[str] = None) -> str:
    """Where ``url`` is cached: ``<cache>/<subdir>/<key>/<name>``.

    ``key`` is the first 16 hex digits of the URL's sha256, so entries are
    keyed on the whole URL (host, path, query) while the file keeps its
    readable name (and extension, which the loaders look at).
    """
    key = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    return os.path.join(cache_dir or get_cache_dir(), subdir, key,
                        url_filename(url, filename))


def is_offline(offline: Optional[bool] = None) -> bool:
    if offline is not None:
        return bool(offline)
    return os.environ.get('EASYMAE_OFFLINE', '').strip().lower() in (
        '1', 'true', 'yes', 'on')


def file_hash(path: str, algorithm: str = 'sha256') -> str:
    h = hashlib.new(algorithm)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def check_hashes(path: str, sha256: Optional[str] = None,
                 md5: Optional[str] = None) -> None:
    """Raise HashMismatchError unless ``path`` matches every given hash.

    A hex string shorter than the full digest is compared as a prefix.
    """
    for algorithm, expected in (('sha256', sha256), ('md5', md5)):
        if not expected:
            continue
        expected = expected.lower()
        actual = file_hash(path, algorithm)
        if not actual.startswith(expected):
            what = 'prefix ' if len(expected) < len(actual) else ''
            raise HashMismatchError(
                f'{path}: {algorithm} mismatch: expected {what}{expected}, '
                f'got {actual}')


def verify_checkpoint(path: str) -> None:
    """Raise unless ``path`` loads as a safe checkpoint (safetensors or
    ``torch.load(weights_only=True)``): catches HTML error pages, bodies cut
    short and pickles that would run code. Pass as ``verify=`` for
    checkpoints; other files (archives) have checks of their own."""
    from .safe_load import CheckpointFormatError, load_file
    with open(path, 'rb') as f:
        head = f.read(512)
    if head.lstrip()[:1] == b'<':
        # the pickle reader would call this an unsafe opcode; say what it is
        raise CheckpointFormatError(
            f'{path}: not a checkpoint but a markup/HTML page (an error '
            f'page from the server?), starting {head[:60]!r}')
    load_file(path, map_location='cpu')


verify_checkpoint.check_name = 'checkpoint'


def check_name(verify: Callable) -> str:
    return getattr(verify, 'check_name', None) or \
        getattr(verify, '__qualname__', None) or repr(verify)


def sidecar(dst: str, suffix: str) -> str:
    folder, name = os.path.split(dst)
    return os.path.join(folder, f'.{name}.{suffix}')


def read_record(dst: str) -> Optional[dict]:
    try:
        with open(sidecar(dst, 'json')) as f:
            record = json.load(f)
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def write_record(dst: str, url: str, sha256: Optional[str],
                  checks) -> None:
    st = os.stat(dst)
    record = dict(url=url, size=st.st_size, mtime_ns=st.st_mtime_ns,
                  sha256=sha256, checks=sorted(set(checks)))
    path = sidecar(dst, 'json')
    tmp = f'{path}.{os.getpid()}.{threading.get_ident()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f)
    os.replace(tmp, path)


def is_full_sha256(sha256: Optional[str]) -> bool:
    return bool(sha256) and len(sha256) == 64


MISSING = 'missing'
UNVERIFIED = 'unverified'


def cache_problem(url, dst, sha256, md5, size, verify, run_verify):
    """None when ``dst`` is a good cache entry for ``url``; else MISSING,
    UNVERIFIED (``verify`` must still run: only under the lock) or the
    exception that says what is wrong with it."""
    try:
        st = os.stat(dst)
    except FileNotFoundError:
        return MISSING
    record = read_record(dst)
    # the record describes this very file only if size and mtime agree
    if record is not None and (record.get('size') != st.st_size or
                               record.get('mtime_ns') != st.st_mtime_ns):
        record = None
    if size is not None and st.st_size != size:
        return HashMismatchError(f'{dst}: size mismatch: expected {size} '
                                 f'bytes, got {st.st_size}')
    if sha256 or md5:
        try:
            check_hashes(dst, sha256, md5)
        except HashMismatchError as e:
            return e
    if is_full_sha256(sha256):
        return None  # the content is known, wherever it came from
    if record is not None and record.get('url') != url:
        return HashMismatchError(
            f'{dst}: it was downloaded from {record.get("url")}, not {url}')
    if verify is None:
        return None
    name = check_name(verify)
    if record is not None and name in record.get('checks', ()):
        return None
    if not run_verify:
        return UNVERIFIED
    try:
        verify(dst)
    except Exception as e:  # the verifier's own error types
        return e
    try:  # remember it; a read-only cache is still a good cache
        write_record(dst, url, record and record.get('sha256'),
                      (record or {}).get('checks', []) + [name])
    except OSError:
        pass
    return None
