"""webdataset-style tar shards: writing them from a data source, reading
them back as the same sample dicts the file sources give.

A shard is a plain tar file; the files of one sample are consecutive and
share a key (``00000012.jpg``, ``00000012.cls``, ``00000012.json``). Keys
written here: ``jpg``/``png``/... (the image file's original bytes; array
sources are encoded as PNG, lossless), ``cls`` (the label as text),
``txt`` (the first caption) and ``json`` (every caption, the original
path, the label). Beside the shards an index JSON lists each shard with
its sample count, so the length of an epoch is known without reading the
shards.

Shard URLs are local paths, ``pipe:COMMAND`` (the command's standard
output is read; a non-zero exit status is an error) or ``http(s)://``.
``prefix-{000000..000009}.tar`` brace patterns expand to a list.
"""
import gzip
import http.client
import io
import json
import os
import os.path as osp
import random
import subprocess
import tempfile
import urllib.error
import urllib.request
from typing import Dict, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np
from braceexpand import braceexpand

from easymae.fileio.atomic import atomic_write_bytes

INDEX_FORMAT = 'easymae-shards'
IMAGE_KEYS = ('jpg', 'jpeg', 'png', 'webp', 'bmp', 'tif', 'tiff')
_EXT_KEY = {'.jpg': 'jpg', '.jpeg': 'jpg', '.png': 'png', '.webp': 'webp',
            '.bmp': 'bmp', '.tif': 'tif', '.tiff': 'tif'}


class ShardError(RuntimeError):
    """A shard that cannot be opened or read to its end (missing, HTTP
    error, truncated, not a tar file); the message names its URL."""


# ------------------------------------------------------------------ URLs
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


# ---------------------------------------------------------------- reading
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


def decode_sample(raw: dict) -> dict:
    """A raw tar sample -> the sample dict of the file sources:
    ``img_bytes`` + ``img_path`` (``shard:key.ext``, for messages),
    ``gt_label`` (-1 without ``cls``), ``captions`` (when ``txt`` or
    ``json`` carries any), plus ``shard`` and ``key``. A sample without an
    image leaves ``img_bytes`` None; the dataset reports it as bad."""
    url, key = raw['__url__'], raw['__key__']
    meta = {}
    if 'json' in raw:
        try:
            meta = json.loads(raw['json'].decode('utf-8'))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f'{url}:{key}.json is not valid JSON: '
                             f'{e}') from None
    ext = next((k for k in IMAGE_KEYS if k in raw), None)
    sample = dict(img_bytes=raw[ext] if ext else None,
                  img_path=f'{url}:{key}.{ext or "<no image>"}',
                  shard=url, key=key, gt_label=-1)
    if 'cls' in raw:
        text = raw['cls'].decode('utf-8', 'replace').strip()
        try:
            sample['gt_label'] = int(text)
        except ValueError:
            raise ValueError(f'{url}:{key}.cls holds {text!r}, not an '
                             'integer label') from None
    if isinstance(meta.get('index'), int):
        sample['sample_idx'] = meta['index']  # the index in the source
    captions = meta.get('captions')
    if isinstance(captions, str):
        captions = [captions]
    if not captions and 'txt' in raw:
        captions = [raw['txt'].decode('utf-8', 'replace').strip()]
    if captions:
        sample['captions'] = list(captions)
    return sample


def load_index(url: str) -> dict:
    """The index JSON written beside the shards (a path or http URL)."""
    stream = open_url(url)
    try:
        data = stream.read()
    finally:
        stream.close()
    try:
        index = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f'shard index {url!r}: not valid JSON: {e}') \
            from None
    if index.get('format') != INDEX_FORMAT or not isinstance(
            index.get('shards'), list):
        raise ValueError(f'shard index {url!r}: not an {INDEX_FORMAT} index'
                         " (needs 'format' and a 'shards' list)")
    return index


# ---------------------------------------------------------------- writing
def _image_entry(sample: dict, where: str):
    """(key, bytes) of a source sample's image: the file's own bytes, or
    a lossless PNG of an array sample."""
    path = sample.get('img_path')
    if path is not None:
        key = _EXT_KEY.get(osp.splitext(path)[1].lower())
        if key is None:
            raise ValueError(f'{where}: {path!r} has no known image '
                             f'extension ({sorted(_EXT_KEY)})')
        with open(path, 'rb') as f:
            return key, f.read()
    img = sample.get('img')
    if img is None:
        raise ValueError(f'{where}: sample has neither img_path nor img')
    ok, buf = cv2.imencode('.png', cv2.cvtColor(np.asarray(img),
                                                cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f'{where}: cannot encode the image as PNG')
    return 'png', buf.tobytes()


def write_shards(source, prefix: str, max_count: int = 1000,
                 max_size: float = 1e9, shuffle: bool = True,
                 seed: int = 0, classes: Optional[Sequence[str]] = None,
                 root: Optional[str] = None) -> dict:
    """Write every sample of ``source`` into ``prefix-%06d.tar`` shards and
    ``prefix-index.json``; returns the index.

    Args:
        source: a data source (``len`` and ``[i]`` giving sample dicts).
        prefix: output path prefix; its folder is created.
        max_count / max_size: a new shard starts after this many samples
            or once a shard holds this many bytes.
        shuffle: write the samples in a seeded random order. A folder
            source lists its classes one after another; shuffled shards
            mix them, so a reader's shuffle buffer need not span classes.
        classes: class names for the index (default: the source's).
        root: image paths are recorded relative to this folder in
            ``json`` (default: kept as given).
    """
    import webdataset as wds

    if max_count < 1 or max_size <= 0:
        raise ValueError(f'max_count must be >= 1 and max_size > 0, got '
                         f'{max_count} and {max_size}')
    order = list(range(len(source)))
    if shuffle:
        random.Random(seed).shuffle(order)
    folder = osp.dirname(osp.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    counts: Dict[str, int] = {}
    sizes: Dict[str, int] = {}
    # fixed integer mtime: the same source and seed give byte-identical
    # shards, and no pax header per file (a float mtime needs one, which
    # doubles the headers a reader parses)
    with wds.ShardWriter(prefix + '-%06d.tar', maxcount=max_count,
                         maxsize=max_size, verbose=0, mtime=0) as sink:
        for n, i in enumerate(order):
            sample = source[i]
            where = f'sample {i} of {type(source).__name__}'
            ext, data = _image_entry(sample, where)
            meta = dict(index=i)
            entry = {'__key__': f'{n:08d}', ext: data}
            if sample.get('img_path') is not None:
                path = sample['img_path']
                meta['path'] = osp.relpath(path, root) if root else path
            label = sample.get('gt_label', -1)
            if label is not None and int(label) >= 0:
                entry['cls'] = str(int(label)).encode()
                meta['label'] = int(label)
            captions = sample.get('captions')
            if captions:
                entry['txt'] = captions[0].encode('utf-8')
                meta['captions'] = list(captions)
            entry['json'] = json.dumps(meta, ensure_ascii=False).encode()
            sink.write(entry)
            name = osp.basename(sink.fname)
            counts[name] = counts.get(name, 0) + 1
    for name in counts:
        sizes[name] = os.path.getsize(osp.join(folder, name))
    if classes is None:
        classes = getattr(source, 'classes', None)
    index = dict(format=INDEX_FORMAT, version=1,
                 num_samples=sum(counts.values()),
                 classes=list(classes) if classes else None,
                 shards=[dict(url=name, num_samples=counts[name],
                              bytes=sizes[name]) for name in counts])
    atomic_write_bytes(json.dumps(index, indent=1).encode(),
                       prefix + '-index.json')
    return index
