"""Download a file once, verify it, and place it atomically in a cache.

Standard library only (urllib), plus ``filelock`` (a torch dependency).
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
import hashlib
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

CHUNK = 1 << 16
DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB: above every ViT-H checkpoint
DEFAULT_DEADLINE_S = 3600.0


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


def _check_name(verify: Callable) -> str:
    return getattr(verify, 'check_name', None) or \
        getattr(verify, '__qualname__', None) or repr(verify)


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


def _sidecar(dst: str, suffix: str) -> str:
    folder, name = os.path.split(dst)
    return os.path.join(folder, f'.{name}.{suffix}')


def _read_record(dst: str) -> Optional[dict]:
    try:
        with open(_sidecar(dst, 'json')) as f:
            record = json.load(f)
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def _write_record(dst: str, url: str, sha256: Optional[str],
                  checks) -> None:
    st = os.stat(dst)
    record = dict(url=url, size=st.st_size, mtime_ns=st.st_mtime_ns,
                  sha256=sha256, checks=sorted(set(checks)))
    path = _sidecar(dst, 'json')
    tmp = f'{path}.{os.getpid()}.{threading.get_ident()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f)
    os.replace(tmp, path)


def _strong(sha256: Optional[str]) -> bool:
    return bool(sha256) and len(sha256) == 64


_MISSING = 'missing'
_UNVERIFIED = 'unverified'


def _cache_problem(url, dst, sha256, md5, size, verify, run_verify):
    """None when ``dst`` is a good cache entry for ``url``; else _MISSING,
    _UNVERIFIED (``verify`` must still run: only under the lock) or the
    exception that says what is wrong with it."""
    try:
        st = os.stat(dst)
    except FileNotFoundError:
        return _MISSING
    record = _read_record(dst)
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
    if _strong(sha256):
        return None  # the content is known, wherever it came from
    if record is not None and record.get('url') != url:
        return HashMismatchError(
            f'{dst}: it was downloaded from {record.get("url")}, not {url}')
    if verify is None:
        return None
    name = _check_name(verify)
    if record is not None and name in record.get('checks', ()):
        return None
    if not run_verify:
        return _UNVERIFIED
    try:
        verify(dst)
    except Exception as e:  # the verifier's own error types
        return e
    try:  # remember it; a read-only cache is still a good cache
        _write_record(dst, url, record and record.get('sha256'),
                      (record or {}).get('checks', []) + [name])
    except OSError:
        pass
    return None


def _kept(part: str) -> str:
    """The 'partial data kept' note, only when there is partial data."""
    if os.path.isfile(part) and os.path.getsize(part) > 0:
        return (f' (partial data, {os.path.getsize(part)} bytes, kept in '
                f'{part} for a later resume)')
    return ''


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


class _Fatal(DownloadError):
    """A failure that another attempt would repeat: not retried."""


def _content_range(header: Optional[str]):
    """(start, total or None) of ``bytes START-END/TOTAL``, or None."""
    m = re.fullmatch(r'\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*', header or '')
    if not m:
        return None
    return int(m.group(1)), None if m.group(3) == '*' else int(m.group(3))


def _open(url: str, have: int, timeout: float):
    request = urllib.request.Request(
        url, headers={'User-Agent': 'easymae-hub'})
    if have:
        request.add_header('Range', f'bytes={have}-')
    return urllib.request.urlopen(request, timeout=timeout)


def _fetch_once(url: str, part: str, timeout: float, progress: bool,
                name: str, deadline: float, deadline_s: float,
                size: Optional[int], max_bytes: int) -> None:
    """One HTTP request (two when a resume is answered from the wrong
    offset), appending to ``part`` when the server honours the Range
    request for what is already there."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    try:
        response = _open(url, have, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:
            # Nothing left to send (or the part is bogus): start over.
            os.unlink(part)
            raise ConnectionError('range not satisfiable; restarting')
        raise
    total = None
    if response.status == 206:
        span = _content_range(response.headers.get('Content-Range'))
        if span is None or span[0] != have:
            # bytes from another offset than asked for: appending them
            # would corrupt the file, so drop the partial data, start over
            response.close()
            if os.path.exists(part):
                os.unlink(part)
            got = response.headers.get('Content-Range')
            if not have:
                raise _Fatal(f'{url}: server sent a partial response '
                             f'(Content-Range {got!r}) to a plain request')
            sys.stderr.write(f'{name}: resume from byte {have} answered '
                             f'with Content-Range {got!r}; restarting\n')
            have = 0
            response = _open(url, 0, timeout)
            if response.status == 206:
                response.close()
                raise _Fatal(f'{url}: server sent a partial response '
                             'to a plain request')
        else:
            total = span[1]
    elif have:
        have = 0  # server ignored Range: it sends the whole file
    with response:
        length = response.headers.get('Content-Length')
        if length is not None and length.strip().isdigit():
            total = have + int(length)
        limit = size if size is not None else max_bytes
        if size is not None and total is not None and total != size:
            if os.path.exists(part):
                os.unlink(part)  # not the file the index describes
            raise _Fatal(f'{url}: server announces {total} bytes, the '
                         f'expected size is {size}')
        if total is not None and total > limit:
            raise _Fatal(f'{url}: server announces {total} bytes, more '
                         f'than the cap of {limit} (max_bytes= or '
                         '$EASYMAE_MAX_DOWNLOAD_BYTES)')
        bar = _Progress(name, total, have, progress)
        done = have
        # read1 returns what one socket read brings, so a server that
        # trickles bytes cannot hold a read (and the deadline check) open
        read = getattr(response, 'read1', response.read)
        with open(part, 'ab' if have else 'wb') as f:
            while True:
                block = read(CHUNK)
                if not block:
                    break
                done += len(block)
                if done > limit:
                    f.close()
                    os.unlink(part)
                    what = (f'the expected size of {size}' if size is not None
                            else f'the cap of {limit} (max_bytes= or '
                            '$EASYMAE_MAX_DOWNLOAD_BYTES)')
                    raise _Fatal(f'{url}: the server sent more than {what} '
                                 'bytes; nothing was kept')
                f.write(block)
                bar.update(len(block))
                if time.monotonic() > deadline:
                    f.flush()
                    raise _Fatal(f'download of {url} did not finish within '
                                 f'its deadline of {deadline_s:g} s '
                                 '(deadline_s= or '
                                 '$EASYMAE_DOWNLOAD_DEADLINE_S)')
            f.flush()
            os.fsync(f.fileno())
        bar.update(0, final=True)
    if total is not None and os.path.getsize(part) != total:
        raise http.client.IncompleteRead(
            b'', total - os.path.getsize(part))


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
        problem = _cache_problem(*checks, run_verify=True)
        if problem is None:
            return dst_path
        if problem is _MISSING:
            raise OfflineError(
                f'offline mode (EASYMAE_OFFLINE=1 or offline=True): {url} '
                f'is not in the cache (looked for {dst_path}); unset '
                'EASYMAE_OFFLINE to download it')
        raise _reworded(problem, f'cached file {dst_path} is not usable '
                        f'({problem}); offline mode cannot fetch it again: '
                        'delete it, or unset EASYMAE_OFFLINE')
    # fast path without the lock: only checks that cost no loading
    if _cache_problem(*checks, run_verify=False) is None:
        return dst_path
    from filelock import FileLock, Timeout
    os.makedirs(os.path.dirname(os.path.abspath(dst_path)), exist_ok=True)
    lock = FileLock(_sidecar(dst_path, 'lock'))
    try:
        lock.acquire(timeout=max(deadline - time.monotonic(), 0.0))
    except Timeout:
        raise DownloadError(
            f'{url}: another process is downloading it (lock '
            f'{_sidecar(dst_path, "lock")}) and did not finish within the '
            f'deadline of {deadline_s:g} s') from None
    try:
        # another process may have fetched it while this one waited
        problem = _cache_problem(*checks, run_verify=True)
        if problem is None:
            return dst_path
        if problem is not _MISSING:
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
            _fetch_once(url, part, min(timeout, left), progress, name,
                        deadline, deadline_s, size, max_bytes)
            break
        except _Fatal as e:
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
    if verify is not None and not _strong(sha256):
        try:
            verify(part)
        except Exception as e:  # the verifier's own error types
            os.unlink(part)
            raise _refused(e, url, part) from None
        passed.append(_check_name(verify))
    digest = file_hash(part)
    os.replace(part, dst_path)
    _write_record(dst_path, url, digest, passed)


def _check_size(path: str, size: Optional[int]) -> None:
    if size is not None and os.path.getsize(path) != size:
        raise HashMismatchError(
            f'{path}: size mismatch: expected {size} bytes, got '
            f'{os.path.getsize(path)}')
