"""CIFAR-10 / CIFAR-100 in their python-pickle batch format."""
import os.path as osp
import pickle
import tarfile
from typing import Optional, Sequence

import numpy as np

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource


class _RestrictedUnpickler(pickle.Unpickler):
    """CIFAR batches hold only dicts, lists, str/bytes and numpy arrays.

    Refusing every other global keeps a tampered batch file from running code.
    """
    _ALLOWED = {('numpy.core.multiarray', '_reconstruct'),
                ('numpy._core.multiarray', '_reconstruct'),
                ('numpy', 'ndarray'), ('numpy', 'dtype'),
                ('numpy.core.multiarray', 'scalar'),
                ('numpy._core.multiarray', 'scalar'),
                ('_codecs', 'encode')}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refusing to load {module}.{name} from a CIFAR batch file')


def _load_batch(path: str) -> dict:
    with open(path, 'rb') as f:
        try:
            return _RestrictedUnpickler(f, encoding='latin1').load()
        except Exception as e:  # noqa: BLE001 - re-raised with the file name
            raise ValueError(f'CIFAR: cannot read batch file {path!r}: '
                             f'{e}') from e


@DATA_SOURCES.register_module()
class CIFAR10(BaseDataSource):
    """Reads ``root/cifar-10-batches-py/{data_batch_1..5,test_batch}``.

    Args:
        root: folder that holds (or will hold) the extracted batches folder.
        split: 'train' or 'test'.
        batches: batch file names to read instead of the standard ones (for
            subsets); every named file must exist.
        download: fetch and verify the official archive when the folder is
            missing.
    """
    base_folder = 'cifar-10-batches-py'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
    archive_md5 = 'c58f30108f718f92721af3b95e74349a'
    train_batches = [f'data_batch_{i}' for i in range(1, 6)]
    test_batches = ['test_batch']
    meta_file, meta_key, label_key = 'batches.meta', 'label_names', 'labels'

    def __init__(self, root: str, split: str = 'train',
                 batches: Optional[Sequence[str]] = None,
                 download: bool = False):
        if split not in ('train', 'test'):
            raise ValueError(f"{type(self).__name__}: split must be 'train' "
                             f"or 'test', got {split!r}")
        folder = osp.join(root, self.base_folder)
        if not osp.isdir(folder) and osp.basename(
                osp.normpath(root)).startswith(self.base_folder):
            folder = root  # root already is the batches folder
        if not osp.isdir(folder):
            if not download:
                raise FileNotFoundError(
                    f'{type(self).__name__}: {folder!r} not found; set '
                    'download=True to fetch the official archive')
            self.download(root)
        meta = _load_batch(osp.join(folder, self.meta_file))
        super().__init__(meta[self.meta_key])
        names = list(batches) if batches is not None else (
            self.train_batches if split == 'train' else self.test_batches)
        arrays, labels = [], []
        for name in names:
            path = osp.join(folder, name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{type(self).__name__}: batch file {path!r} is missing')
            entry = _load_batch(path)
            data = np.asarray(entry['data'], dtype=np.uint8)
            if data.ndim != 2 or data.shape[1] != 3072:
                raise ValueError(f'{path}: expected N x 3072 uint8 data, got '
                                 f'shape {data.shape}')
            arrays.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.extend(int(x) for x in entry[self.label_key])
        images = np.concatenate(arrays)
        for i, (img, label) in enumerate(zip(images, labels)):
            self.samples.append(dict(img=np.ascontiguousarray(img),
                                     gt_label=label, sample_idx=i))
        self._check_not_empty(folder)

    @classmethod
    def download(cls, root: str) -> None:
        """Download the official archive, check its md5, extract it."""
        from easymae.fileio.download import download_url
        archive = osp.join(root, osp.basename(cls.url))
        download_url(cls.url, archive, md5=cls.archive_md5)
        with tarfile.open(archive, 'r:gz') as tar:
            tar.extractall(root, filter='data')


@DATA_SOURCES.register_module()
class CIFAR100(CIFAR10):
    """CIFAR-100 with its 100 fine labels."""
    base_folder = 'cifar-100-python'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'
    archive_md5 = 'eb9058c3a382ffc7106e4002c42a8d85'
    train_batches = ['train']
    test_batches = ['test']
    meta_file, meta_key, label_key = 'meta', 'fine_label_names', 'fine_labels'
