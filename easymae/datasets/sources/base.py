"""The data-source contract: an indexable list of samples.

A data source knows *where* samples are (paths, arrays, labels) and nothing
about tensors; the pipeline turns one sample dict into model inputs.
A sample is a dict with ``img_path`` (a file to decode) or ``img`` (an RGB
uint8 HxWx3 array), plus ``gt_label`` (int, -1 when unlabelled).
"""
import os
import os.path as osp
from typing import List, Optional, Sequence


class BaseDataSource:
    """Subclasses fill ``self.samples`` and may set ``self.classes``."""

    def __init__(self, classes: Optional[Sequence[str]] = None):
        self.samples: List[dict] = []
        self.classes = list(classes) if classes is not None else None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, idx: int) -> dict:
        return dict(self.samples[idx])

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    def _check_not_empty(self, where: str) -> None:
        if not self.samples:
            raise ValueError(f'{type(self).__name__}: no samples found in '
                             f'{where}')


class InsideRoot:
    """Whether a path, symbolic links resolved, stays inside a root.

    Folders' real paths are cached, so a long list costs one ``lstat`` per
    file (to see whether the file itself is a link) rather than a full
    ``realpath`` each."""

    def __init__(self, root: str, what: str = 'root'):
        self.root, self.what = root, what
        self.real_root = osp.realpath(root)
        self._real_dirs = {}

    def problem(self, path: str) -> Optional[str]:
        if os.path.commonpath([path, self.root]) != self.root:
            return f'points outside the {self.what} {self.root!r}'
        folder, name = osp.split(path)
        real_dir = self._real_dirs.get(folder)
        if real_dir is None:
            real_dir = self._real_dirs[folder] = osp.realpath(folder)
        real = osp.join(real_dir, name)
        if osp.islink(real):
            real = osp.realpath(real)
        if os.path.commonpath([real, self.real_root]) != self.real_root:
            return (f'resolves, through a symbolic link, to {real!r}, '
                    f'outside the {self.what} {self.real_root!r}')
        return None
