"""Reading a tar shard as a stream of samples: the files of one sample
are consecutive and share a key (``00000012.jpg``, ``00000012.cls``)."""
import gzip
import http.client
import os.path as osp
from typing import Iterator, Optional

from .shard_urls import ShardError, open_url


def split_key(name: str):
    """``dir/00000012.cls`` -> (``dir/00000012``, ``cls``): the key ends
    at the first dot of the file name, as in webdataset."""
    folder, base = osp.split(name)
    stem, _, ext = base.partition('.')
    return osp.join(folder, stem) if folder else stem, ext.lower()


_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)


def _read_exact(stream, n: int, url: str, where: str) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ShardError(f'shard {url!r}: ends in the middle of {where} '
                             f'({n - left} of {n} bytes; truncated shard?)')
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b''.join(chunks)


def _tar_number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256, for huge values
        return int.from_bytes(field[1:], 'big')
    text = field.split(b'\0', 1)[0].strip()
    return int(text, 8) if text else 0


def _signed_sum(block: bytes) -> int:
    # some old tar writers sum the header as signed bytes
    signed = [b - 256 if b > 127 else b for b in block]
    return sum(signed[:148]) + 256 + sum(signed[156:])


def _pax_records(data: bytes) -> dict:
    out, pos = {}, 0
    while pos < len(data):
        space = data.index(b' ', pos)
        length = int(data[pos:space])
        key, _, value = data[space + 1:pos + length - 1].partition(b'=')
        out[key.decode('utf-8', 'replace')] = value.decode('utf-8',
                                                          'replace')
        pos += length
    return out


def tar_members(stream, url: str) -> Iterator:
    """(name, bytes) of each regular file of an uncompressed tar stream.

    A small reader of ustar/pax/GNU headers rather than ``tarfile``: a
    shard sample is 2-4 small files, and ``tarfile``'s general machinery
    costs several times the decode of a small JPEG per file. Headers are
    checksummed, and a stream that ends inside a file is an error."""
    pax: dict = {}
    long_name = None
    while True:
        block = stream.read(_BLOCK)
        if not block or block == _ZERO_BLOCK:
            return  # the end blocks (or a stream cut between files)
        if len(block) < _BLOCK:
            block += _read_exact(stream, _BLOCK - len(block), url,
                                 'a header')
        stored = _tar_number(block[148:156])
        if stored != sum(block) - sum(block[148:156]) + 256 and \
                stored != _signed_sum(block):
            raise ShardError(f'shard {url!r}: bad tar header checksum (not '
                             'a tar file, or corrupt)')
        kind = block[156:157]
        name = block[:100].split(b'\0', 1)[0]
        if block[257:262] == b'ustar' and block[345] != 0:
            name = block[345:500].split(b'\0', 1)[0] + b'/' + name
        name = name.decode('utf-8', 'replace')
        size = _tar_number(block[124:136])
        if kind not in (b'x', b'g', b'L', b'K'):
            size = int(pax.get('size', size))
            name = long_name or pax.get('path', name)
        data = _read_exact(stream, size, url, repr(name))
        pad = -size % _BLOCK
        if pad:
            _read_exact(stream, pad, url, repr(name))
        if kind == b'x':
            pax = _pax_records(data)
        elif kind == b'L':
            long_name = data.split(b'\0', 1)[0].decode('utf-8', 'replace')
        elif kind in (b'g', b'K'):
            pass
        else:
            pax, long_name = {}, None
            if kind in (b'0', b'\0', b'7'):
                yield name, data


def iter_tar(url: str, timeout: float = 60.0) -> Iterator[dict]:
    """The raw samples of one shard: ``{'__key__', '__url__', ext: bytes}``
    in file order. Any read error is a ShardError naming the shard."""
    stream = open_url(url, timeout)
    try:
        if url.endswith(('.gz', '.tgz')):
            stream = gzip.GzipFile(fileobj=stream)
        current: Optional[dict] = None
        try:
            for name, data in tar_members(stream, url):
                key, ext = split_key(name)
                if current is not None and key != current['__key__']:
                    yield current
                    current = None
                if current is None:
                    current = {'__key__': key, '__url__': url}
                if ext in current:
                    raise ShardError(f'shard {url!r}: sample {key!r} has '
                                     f'two {ext!r} files (keys must be '
                                     'unique and their files adjacent)')
                current[ext] = data
        except ShardError:
            raise
        except (EOFError, OSError, ValueError,
                http.client.HTTPException) as e:
            raise ShardError(f'shard {url!r}: read error after '
                             f'{current["__key__"] if current else "start"}'
                             f': {e} (truncated or corrupt shard?)') from None
        if current is not None:
            yield current
    finally:
        stream.close()
