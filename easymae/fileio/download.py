"""Download a file once, verify it, and place it atomically in a cache.

Standard library only (urllib). What a user of a model zoo needs and what
the reference repositories lacked (see docs/model_zoo.md):

* a cache directory, ``$EASYMAE_HOME`` or ``<torch hub dir>/easymae``;
* a progress line with size and speed;
* resume of a partial download with an HTTP ``Range`` request;
* timeouts and a bounded number of retries (HTTP 4xx is not retried);
* sha256 / md5 verification -- a mismatch deletes the file and names both
  hashes; a short hex string is checked as a prefix (the only thing known
  for some public files);
* atomic placement: bytes go to ``<dst>.part``, which is renamed to ``dst``
  only after verification, so ``dst`` is never half-written;
* offline mode (``EASYMAE_OFFLINE=1`` or ``offline=True``): the cache only.
"""
import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Optional

CHUNK = 1 << 16


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


class _Progress:
    """One stderr line: name, bytes done / total, percent, speed."""

    def __init__(self, name: str, total: Optional[int], start: int,
                 enabled: bool):
        self.name, self.total, self.enabled = name, total, enabled
        self.done = self.start = start
        self.t0 = self.last = time.monotonic()

    def update(self, n: int, final: bool = False):
        self.done += n
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and not final):
            return
        self.last = now
        speed = (self.done - self.start) / max(now - self.t0, 1e-6)
        size = f'{self.done / 1e6:.1f}'
        if self.total:
            size += f'/{self.total / 1e6:.1f} MB ' \
                    f'({100.0 * self.done / self.total:.0f}%)'
        else:
            size += ' MB'
        sys.stderr.write(f'\r{self.name}: {size} {speed / 1e6:.2f} MB/s')
        if final:
            sys.stderr.write('\n')
        sys.stderr.flush()


def _fetch_once(url: str, part: str, timeout: float, progress: bool,
                name: str) -> None:
    """One HTTP request, appending to ``part`` when the server honours
    the Range request for what is already there."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(
        url, headers={'User-Agent': 'easymae-hub'})
    if have:
        request.add_header('Range', f'bytes={have}-')
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:
            # Nothing left to send (or the part is bogus): start over.
            os.unlink(part)
            raise ConnectionError('range not satisfiable; restarting')
        raise
    with response:
        if have and response.status != 206:
            have = 0  # server ignored Range: it sends the whole file
        length = response.headers.get('Content-Length')
        total = have + int(length) if length is not None else None
        bar = _Progress(name, total, have, progress)
        with open(part, 'ab' if have else 'wb') as f:
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                f.write(block)
                bar.update(len(block))
            f.flush()
            os.fsync(f.fileno())
        bar.update(0, final=True)
    if total is not None and os.path.getsize(part) != total:
        raise http.client.IncompleteRead(
            b'', total - os.path.getsize(part))


def download_url(url: str, dst_path: str, sha256: Optional[str] = None,
                 md5: Optional[str] = None, size: Optional[int] = None,
                 timeout: float = 30.0, retries: int = 3,
                 backoff: float = 1.0, progress: bool = True,
                 offline: Optional[bool] = None) -> str:
    """Fetch ``url`` to ``dst_path`` (once) and return ``dst_path``.

    An existing ``dst_path`` that matches the given hashes is a cache hit.
    ``retries`` bounds the extra attempts after a network failure (each
    resumes where the previous stopped); HTTP client errors (404, 403...)
    fail at once. ``size`` (bytes), when given, is checked as well.
    """
    name = os.path.basename(dst_path)
    if os.path.exists(dst_path):
        try:
            check_hashes(dst_path, sha256, md5)
            _check_size(dst_path, size)
            return dst_path
        except HashMismatchError as e:
            if is_offline(offline):
                raise
            sys.stderr.write(f'cached file is corrupt ({e}); '
                             'downloading it again\n')
            os.unlink(dst_path)
    if is_offline(offline):
        raise OfflineError(
            f'offline mode (EASYMAE_OFFLINE=1 or offline=True): {url} is '
            f'not in the cache (looked for {dst_path}); unset '
            'EASYMAE_OFFLINE to download it')
    folder = os.path.dirname(os.path.abspath(dst_path))
    os.makedirs(folder, exist_ok=True)
    part = dst_path + '.part'
    errors = []
    for attempt in range(retries + 1):
        try:
            _fetch_once(url, part, timeout, progress, name)
            break
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500:
                raise DownloadError(
                    f'HTTP {e.code} {e.reason} for {url}') from None
            errors.append(f'HTTP {e.code} {e.reason}')
        except (urllib.error.URLError, socket.timeout, TimeoutError,
                ConnectionError, http.client.HTTPException, OSError) as e:
            reason = getattr(e, 'reason', e)
            if isinstance(reason, (socket.timeout, TimeoutError)) or \
                    isinstance(e, (socket.timeout, TimeoutError)):
                reason = f'timed out after {timeout:g} s'
            errors.append(f'{type(e).__name__}: {reason}')
        if attempt < retries:
            time.sleep(backoff * 2 ** attempt)
    else:
        raise DownloadError(
            f'download of {url} failed after {retries + 1} attempts: '
            + '; '.join(errors) + f' (partial data kept in {part} for a '
            'later resume)')
    try:
        check_hashes(part, sha256, md5)
        _check_size(part, size)
    except HashMismatchError as e:
        os.unlink(part)
        raise HashMismatchError(
            f'downloaded {url} is corrupt and was deleted: '
            + str(e).replace(part + ': ', '')) from None
    os.replace(part, dst_path)
    return dst_path


def _check_size(path: str, size: Optional[int]) -> None:
    if size is not None and os.path.getsize(path) != size:
        raise HashMismatchError(
            f'{path}: size mismatch: expected {size} bytes, got '
            f'{os.path.getsize(path)}')
