"""Decode an image file into an RGB uint8 HxWx3 array."""
import io
import os.path as osp

import cv2
import numpy as np
from PIL import Image

from easymae.registry import TRANSFORMS


class BadImageError(ValueError):
    """An image file that is missing, empty, truncated or not an image."""


def read_image(path: str, backend: str = 'cv2') -> np.ndarray:
    """Return the RGB uint8 HxWx3 pixels of ``path`` or raise BadImageError."""
    if not osp.isfile(path):
        raise BadImageError(f'image file not found: {path!r}')
    if osp.getsize(path) == 0:
        raise BadImageError(f'image file is empty (0 bytes): {path!r}')
    if backend == 'cv2':
        buf = np.fromfile(path, dtype=np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if img is None:
            raise BadImageError(f'cannot decode image file {path!r} (opencv)')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if backend == 'pillow':
        try:
            with Image.open(path) as im:
                # load() reads every byte, so a truncated file fails here
                # rather than yielding a half-grey image later.
                im.load()
                return np.asarray(im.convert('RGB'))
        except (OSError, SyntaxError, ValueError) as e:
            raise BadImageError(f'cannot decode image file {path!r} '
                                f'(pillow): {e}') from e
    raise ValueError(f"LoadImage: backend must be 'cv2' or 'pillow', got "
                     f'{backend!r}')


def decode_image_bytes(data: bytes, where: str,
                       backend: str = 'cv2') -> np.ndarray:
    """``read_image`` for bytes already in memory (a tar shard's member);
    ``where`` names them in errors."""
    if not data:
        raise BadImageError(f'image is empty (0 bytes): {where}')
    if backend == 'cv2':
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise BadImageError(f'cannot decode image {where} (opencv)')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return np.asarray(im.convert('RGB'))
    except (OSError, SyntaxError, ValueError) as e:
        raise BadImageError(f'cannot decode image {where} (pillow): '
                            f'{e}') from e


_REDUCED_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
                  4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class PendingJpeg:
    """A JPEG whose bytes and header are read but whose pixels are not.

    ``LoadImage(lazy=True)`` hands it to ``RandomResizedCrop``, which knows
    its crop before decoding and so can ask libjpeg for a 1/2, 1/4 or 1/8
    scale decode (its DCT skips most of the work) whenever the crop still
    covers the output size at that scale.
    """

    def __init__(self, path: str, data: bytes, height: int, width: int):
        self.path = path
        self.data = data
        self.shape = (height, width, 3)

    def decode(self, factor: int = 1) -> np.ndarray:
        """RGB uint8 pixels at 1/``factor`` scale (1, 2, 4 or 8)."""
        img = cv2.imdecode(np.frombuffer(self.data, np.uint8),
                           _REDUCED_FLAGS[factor])
        if img is None:
            raise BadImageError(f'cannot decode image file {self.path!r} '
                                '(opencv)')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def __getitem__(self, item):
        raise TypeError(
            f'{self.path!r} is not decoded yet: LoadImage(lazy=True) must be '
            'followed directly by RandomResizedCrop')

    def __array__(self, *args, **kwargs):
        return self[None]


# start-of-frame markers (baseline, progressive, ...) that hold the size
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
        0xCE, 0xCF}


def jpeg_size(data: bytes):
    """(height, width) from a JPEG's frame header, or None if ``data`` is
    not a JPEG or has no readable frame header (then decode it fully)."""
    if data[:2] != b'\xff\xd8':
        return None
    i, n = 2, len(data)
    while i + 9 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _SOF:
            h = int.from_bytes(data[i + 5:i + 7], 'big')
            w = int.from_bytes(data[i + 7:i + 9], 'big')
            return (h, w) if h and w else None
        i += 2 + int.from_bytes(data[i + 2:i + 4], 'big')
    return None


@TRANSFORMS.register_module()
class LoadImage:
    """Decode ``results['img_path']`` (or ``results['img_bytes']``, the
    file's bytes from a shard) into ``results['img']``.

    Samples that already carry pixels (``img``, e.g. from ``Digits`` or
    ``CIFAR10``) pass through, so one pipeline serves file and array sources.
    opencv's decoder is the default: it is faster than pillow's here, and a
    truncated JPEG fails loudly instead of being padded with grey.

    ``lazy=True`` (cv2 only) reads just the header of a JPEG file and leaves
    the decode to the ``RandomResizedCrop`` that must follow, which decodes
    at a reduced scale when its crop allows (measured in
    benchmarks/data_pipeline.py: ~1.3-1.6x the images/s on 512 px photos to
    224 px). Other files are decoded at once as usual.
    """

    def __init__(self, backend: str = 'cv2', lazy: bool = False):
        if backend not in ('cv2', 'pillow'):
            raise ValueError(f"LoadImage: backend must be 'cv2' or 'pillow', "
                             f'got {backend!r}')
        if lazy and backend != 'cv2':
            raise ValueError("LoadImage: lazy=True needs backend='cv2'")
        self.backend = backend
        self.lazy = lazy

    def __call__(self, results: dict) -> dict:
        data = results.get('img_bytes')
        if results.get('img') is None and data is not None:
            # streamed samples (tar shards) carry the file's bytes;
            # img_path names the shard and key for messages
            where = repr(results.get('img_path', '<bytes>'))
            hw = jpeg_size(data) if self.lazy and data else None
            results['img'] = (
                PendingJpeg(results.get('img_path', '<bytes>'), data, *hw)
                if hw is not None else
                decode_image_bytes(data, where, self.backend))
        if results.get('img') is None:
            path = results['img_path']
            pending = None
            if self.lazy and osp.isfile(path) and osp.getsize(path) > 0:
                with open(path, 'rb') as f:
                    data = f.read()
                hw = jpeg_size(data)
                # EXIF rotation, if any, is caught by RandomResizedCrop's
                # shape check after the decode
                if hw is not None:
                    pending = PendingJpeg(path, data, *hw)
            results['img'] = pending if pending is not None else \
                read_image(path, self.backend)
        results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self):
        return f'LoadImage(backend={self.backend!r}, lazy={self.lazy})'
