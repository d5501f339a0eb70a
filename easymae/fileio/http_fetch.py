"""One HTTP request of a download: resume with ``Range``, size caps, a
deadline checked between socket reads, and a progress line."""
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from typing import Optional

from .download_cache import DownloadError

CHUNK = 1 << 16


class Progress:
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


class Fatal(DownloadError):
    """A failure that another attempt would repeat: not retried."""


def content_range(header: Optional[str]):
    """(start, total or None) of ``bytes START-END/TOTAL``, or None."""
    m = re.fullmatch(r'\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*', header or '')
    if not m:
        return None
    return int(m.group(1)), None if m.group(3) == '*' else int(m.group(3))


def open_url(url: str, have: int, timeout: float):
    request = urllib.request.Request(
        url, headers={'User-Agent': 'easymae-hub'})
    if have:
        request.add_header('Range', f'bytes={have}-')
    return urllib.request.urlopen(request, timeout=timeout)


def fetch_once(url: str, part: str, timeout: float, progress: bool,
                name: str, deadline: float, deadline_s: float,
                size: Optional[int], max_bytes: int) -> None:
    """One HTTP request (two when a resume is answered from the wrong
    offset), appending to ``part`` when the server honours the Range
    request for what is already there."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    try:
        response = open_url(url, have, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:
            # Nothing left to send (or the part is bogus): start over.
            os.unlink(part)
            raise ConnectionError('range not satisfiable; restarting')
        raise
    total = None
    if response.status == 206:
        span = content_range(response.headers.get('Content-Range'))
        if span is None or span[0] != have:
            # bytes from another offset than asked for: appending them
            # would corrupt the file, so drop the partial data, start over
            response.close()
            if os.path.exists(part):
                os.unlink(part)
            got = response.headers.get('Content-Range')
            if not have:
                raise Fatal(f'{url}: server sent a partial response '
                             f'(Content-Range {got!r}) to a plain request')
            sys.stderr.write(f'{name}: resume from byte {have} answered '
                             f'with Content-Range {got!r}; restarting\n')
            have = 0
            response = open_url(url, 0, timeout)
            if response.status == 206:
                response.close()
                raise Fatal(f'{url}: server sent a partial response '
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
            raise Fatal(f'{url}: server announces {total} bytes, the '
                         f'expected size is {size}')
        if total is not None and total > limit:
            raise Fatal(f'{url}: server announces {total} bytes, more '
                         f'than the cap of {limit} (max_bytes= or '
                         '$EASYMAE_MAX_DOWNLOAD_BYTES)')
        bar = Progress(name, total, have, progress)
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
                    raise Fatal(f'{url}: the server sent more than {what} '
                                 'bytes; nothing was kept')
                f.write(block)
                bar.update(len(block))
                if time.monotonic() > deadline:
                    f.flush()
                    raise Fatal(f'download of {url} did not finish within '
                                 f'its deadline of {deadline_s:g} s '
                                 '(deadline_s= or '
                                 '$EASYMAE_DOWNLOAD_DEADLINE_S)')
            f.flush()
            os.fsync(f.fileno())
        bar.update(0, final=True)
    if total is not None and os.path.getsize(part) != total:
        raise http.client.IncompleteRead(
            b'', total - os.path.getsize(part))
