"""Download a file once, verify it, and place it atomically in a cache.

Standard library only (urllib), plus ``filelock`` (a torch dependency).
This module holds the call and its retries; the cache entries and their
checks are in ``download_cache``, one HTTP request in ``http_fetch``.
What a user of a model zoo needs and what the reference repositories lacked
(see docs/model_zoo.md):

* a cache directory, ``$EASYMAE_HOME`` or ``<torch hub dir>/easymae``, keyed
  on the whole URL: ``<cache>/checkpoints/<sha256(url)[:16]>/<file name>``
  (:func:`cache_path`), so two URLs with the same file name never share an
  entry;
* one download per entry at a time: a lock file beside the entry, so that
  concurrent processes (e.g. every rank under torchrun) do not share a
  ``.part``; the first fetches, the others wait and then find it cached;
* a progress line with size and speed;
* resume of a partial download with an HTTP ``Range`` request; a ``206``
  whose ``Content-Range`` does not start where the partial file ends is
  discarded and the download starts over;
* a per-read timeout, an overall deadline (``deadline_s`` or
  ``$EASYMAE_DOWNLOAD_DEADLINE_S``) and a bounded number of retries (HTTP
  4xx is not retried);
* a size check against ``Content-Length``, the expected ``size`` when known,
  and otherwise a cap (``max_bytes`` or ``$EASYMAE_MAX_DOWNLOAD_BYTES``);
* sha256 / md5 verification -- a mismatch deletes the file and names both
  hashes; a short hex string is checked as a prefix (the only thing known
  for some public files);
* ``verify=``: a check the file must pass before it enters the cache (e.g.
  :func:`verify_checkpoint`: it loads as a safe checkpoint) -- the only
  content check possible when no sha256 is known;
* atomic placement: bytes go to ``<dst>.part``, which is renamed to ``dst``
  only after verification, so ``dst`` is never half-written; a small record
  beside it (``.<name>.json``: URL, size, mtime, sha256, checks passed) lets
  a later call trust it without loading it again;
* offline mode (``EASYMAE_OFFLINE=1`` or ``offline=True``): the cache only.
"""
import http.client
import os
import socket
import sys
import time
import urllib.error
from typing import Callable, Optional

from .download_cache import (  # noqa: F401 (the module's public names)
    MISSING,
    DownloadError,
    HashMismatchError,
    OfflineError,
    cache_path,
    cache_problem,
    check_hashes,
    check_name,
    file_hash,
    get_cache_dir,
    is_full_sha256,
    is_offline,
    sidecar,
    url_filename,
    verify_checkpoint,
    write_record,
)
from .http_fetch import Fatal, fetch_once

DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB: above every ViT-H checkpoint
DEFAULT_DEADLINE_S = 3600.0


def _env_limit(value, variable: str, default: float, cast):
    if value is not None:
        return cast(value)
    text = os.environ.get(variable, '').strip()
    if not text:
        return default
    try:
        return cast(float(text))
    except ValueError:
        raise ValueError(f'${variable}={text!r} is not a number') from None


def _kept(part: str) -> str:
    """The 'partial data kept' note, only when there is partial data."""
    if os.path.isfile(part) and os.path.getsize(part) > 0:
        return (f' (partial data, {os.path.getsize(part)} bytes, kept in '
                f'{part} for a later resume)')
    return ''


def _reworded(error: Exception, message: str) -> Exception:
    """``error`` with another message, same type where possible (callers
    tell an unsafe checkpoint from a broken one by the type)."""
    try:
        return type(error)(message)
    except Exception:
        return DownloadError(message)


def _refused(error: Exception, url: str, part: str) -> Exception:
    """``error`` (from ``verify``) reworded to name the URL."""
    return _reworded(error, f'downloaded {url} was refused and deleted: ' +
                     str(error).replace(part + ': ', '')
                     .replace(part, '<file>'))


def download_url(url: str, dst_path: str, sha256: Optional[str] = None,
                 md5: Optional[str] = None, size: Optional[int] = None,
                 timeout: float = 30.0, retries: int = 3,
                 backoff: float = 1.0, progress: bool = True,
                 offline: Optional[bool] = None,
                 verify: Optional[Callable[[str], None]] = None,
                 max_bytes: Optional[int] = None,
                 deadline_s: Optional[float] = None) -> str:
    """Fetch ``url`` to ``dst_path`` (once) and return ``dst_path``.

    An existing ``dst_path`` that passes the checks is a cache hit.
    ``retries`` bounds the extra attempts after a network failure (each
    resumes where the previous stopped); HTTP client errors (404, 403...)
    fail at once. ``size`` (bytes), when given, is checked as well; when
    not, no more than ``max_bytes`` are accepted. ``verify(path)`` must not
    raise for the file to be cached (skipped when a full sha256 is given);
    a cached file that fails it is named and fetched again. The whole call
    ends after ``deadline_s`` (plus at most one read ``timeout``).
    """
    dst_path = os.fspath(dst_path)
    if os.path.isdir(dst_path):
        raise IsADirectoryError(f'download destination {dst_path!r} is a '
                                f'folder; give a file path (for {url})')
    max_bytes = _env_limit(max_bytes, 'EASYMAE_MAX_DOWNLOAD_BYTES',
                           DEFAULT_MAX_BYTES, int)
    deadline_s = _env_limit(deadline_s, 'EASYMAE_DOWNLOAD_DEADLINE_S',
                            DEFAULT_DEADLINE_S, float)
    deadline = time.monotonic() + deadline_s
    checks = (url, dst_path, sha256, md5, size, verify)
    if is_offline(offline):
        problem = cache_problem(*checks, run_verify=True)
        if problem is None:
            return dst_path
        if problem is MISSING:
            raise OfflineError(
                f'offline mode (EASYMAE_OFFLINE=1 or offline=True): {url} '
                f'is not in the cache (looked for {dst_path}); unset '
                'EASYMAE_OFFLINE to download it')
        raise _reworded(problem, f'cached file {dst_path} is not usable '
                        f'({problem}); offline mode cannot fetch it again: '
                        'delete it, or unset EASYMAE_OFFLINE')
    # fast path without the lock: only checks that cost no loading
    if cache_problem(*checks, run_verify=False) is None:
        return dst_path
    from filelock import FileLock, Timeout
    os.makedirs(os.path.dirname(os.path.abspath(dst_path)), exist_ok=True)
    lock = FileLock(sidecar(dst_path, 'lock'))
    try:
        lock.acquire(timeout=max(deadline - time.monotonic(), 0.0))
    except Timeout:
        raise DownloadError(
            f'{url}: another process is downloading it (lock '
            f'{sidecar(dst_path, "lock")}) and did not finish within the '
            f'deadline of {deadline_s:g} s') from None
    try:
        # another process may have fetched it while this one waited
        problem = cache_problem(*checks, run_verify=True)
        if problem is None:
            return dst_path
        if problem is not MISSING:
            sys.stderr.write(f'cached file {dst_path} is not usable '
                             f'({type(problem).__name__}: {problem}); '
                             'downloading it again\n')
            os.unlink(dst_path)
        _download(url, dst_path, sha256, md5, size, timeout, retries,
                  backoff, progress, verify, max_bytes, deadline,
                  deadline_s)
    finally:
        lock.release()
    return dst_path


def _download(url, dst_path, sha256, md5, size, timeout, retries, backoff,
              progress, verify, max_bytes, deadline, deadline_s) -> None:
    """The download proper; the caller holds the entry's lock."""
    name = os.path.basename(dst_path)
    part = dst_path + '.part'
    errors = []
    for attempt in range(retries + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise DownloadError(
                f'download of {url} did not finish within its deadline of '
                f'{deadline_s:g} s: ' + '; '.join(errors) + _kept(part))
        try:
            fetch_once(url, part, min(timeout, left), progress, name,
                        deadline, deadline_s, size, max_bytes)
            break
        except Fatal as e:
            raise DownloadError(str(e) + _kept(part)) from None
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
                reason = f'timed out after {min(timeout, left):g} s'
            errors.append(f'{type(e).__name__}: {reason}')
        if attempt < retries:
            time.sleep(max(min(backoff * 2 ** attempt,
                               deadline - time.monotonic()), 0.0))
    else:
        raise DownloadError(
            f'download of {url} failed after {retries + 1} attempts: '
            + '; '.join(errors) + _kept(part))
    try:
        _check_size(part, size)
        check_hashes(part, sha256, md5)
    except HashMismatchError as e:
        os.unlink(part)
        raise HashMismatchError(
            f'downloaded {url} is corrupt and was deleted: '
            + str(e).replace(part + ': ', '')) from None
    passed = []
    if verify is not None and not is_full_sha256(sha256):
        try:
            verify(part)
        except Exception as e:  # the verifier's own error types
            os.unlink(part)
            raise _refused(e, url, part) from None
        passed.append(check_name(verify))
    digest = file_hash(part)
    os.replace(part, dst_path)
    write_record(dst_path, url, digest, passed)


def _check_size(path: str, size: Optional[int]) -> None:
    if size is not None and os.path.getsize(path) != size:
        raise HashMismatchError(
            f'{path}: size mismatch: expected {size} bytes, got '
            f'{os.path.getsize(path)}')
