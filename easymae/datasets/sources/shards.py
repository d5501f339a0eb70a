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

Shard URLs are local paths, ``pipe:COMMAND`` or ``http(s)://``
(``shard_urls``); the tar stream is read by ``tar_stream``.
"""
import json
import os
import os.path as osp
import random
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from easymae.fileio.atomic import atomic_write_bytes
from .shard_urls import (  # noqa: F401 (the module's public names)
    ShardError,
    expand_urls,
    is_remote,
    join_url,
    open_url,
)
from .tar_stream import iter_tar, split_key, tar_members  # noqa: F401

INDEX_FORMAT = 'easymae-shards'
IMAGE_KEYS = ('jpg', 'jpeg', 'png', 'webp', 'bmp', 'tif', 'tiff')
_EXT_KEY = {'.jpg': 'jpg', '.jpeg': 'jpg', '.png': 'png', '.webp': 'webp',
            '.bmp': 'bmp', '.tif': 'tif', '.tiff': 'tif'}

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
