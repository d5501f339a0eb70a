"""Opening a shard by URL: a local path, ``pipe:COMMAND`` (its standard
output; a non-zero exit status is an error) or ``http(s)://``; brace
patterns (``prefix-{000000..000009}.tar``) expand to a list. Every
failure is a ShardError naming the shard."""
import io
import os.path as osp
import subprocess
import tempfile
import urllib.error
import urllib.request
from typing import List, Sequence, Union

from braceexpand import braceexpand


class ShardError(RuntimeError):
    """A shard that cannot be opened or read to its end (missing, HTTP
    error, truncated, not a tar file); the message names its URL."""


def expand_urls(urls: Union[str, Sequence[str]]) -> List[str]:
    """A URL, brace pattern or list of them -> the list of shard URLs."""
    if isinstance(urls, str):
        urls = [urls]
    out = []
    for url in urls:
        out.extend(braceexpand(url))
    if not out:
        raise ValueError('no shard URLs given')
    return out


def is_remote(url: str) -> bool:
    return url.startswith(('http://', 'https://', 'pipe:'))


def join_url(base: str, name: str) -> str:
    """``name`` (from an index) relative to the folder of ``base``."""
    if is_remote(name) or osp.isabs(name):
        return name
    if base.startswith(('http://', 'https://')):
        return base.rsplit('/', 1)[0] + '/' + name
    return osp.join(osp.dirname(base), name)


class _PipeStream(io.RawIOBase):
    """The standard output of a shell command; its exit status is checked
    when the output ends, so a failing command is an error, not a short
    shard."""

    def __init__(self, url: str):
        self.url, self.cmd = url, url[len('pipe:'):]
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, shell=True,
                                     stdout=subprocess.PIPE,
                                     stderr=self._err)

    def readable(self):
        return True

    def readinto(self, buf):
        n = self.proc.stdout.readinto(buf)
        if n == 0:
            self._check()
        return n

    def _check(self):
        status = self.proc.wait()
        if status != 0:
            self._err.seek(0)
            tail = self._err.read()[-500:].decode('utf-8', 'replace')
            raise ShardError(f'shard {self.url!r}: command exited with '
                             f'status {status}: {tail.strip()}')

    def close(self):
        if not self.closed:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self._err.close()
        super().close()


def open_url(url: str, timeout: float = 60.0):
    """A binary stream of the shard (or index) at ``url``."""
    if url.startswith('pipe:'):
        return io.BufferedReader(_PipeStream(url), 1 << 20)
    if url.startswith(('http://', 'https://')):
        try:
            return urllib.request.urlopen(url, timeout=timeout)
        except urllib.error.HTTPError as e:
            raise ShardError(f'shard {url!r}: HTTP {e.code} {e.reason}') \
                from None
        except (urllib.error.URLError, OSError) as e:
            raise ShardError(f'shard {url!r}: cannot connect: '
                             f'{getattr(e, "reason", e)}') from None
    try:
        return open(url, 'rb', buffering=1 << 20)
    except OSError as e:
        raise ShardError(f'shard {url!r}: {e.strerror}') from None
