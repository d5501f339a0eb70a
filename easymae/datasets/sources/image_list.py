"""EasyCV's ImageList format: an image root and a text file listing paths."""
import os
import os.path as osp
from typing import Optional, Sequence

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource


@DATA_SOURCES.register_module()
class ImageList(BaseDataSource):
    """One relative image path per line, optionally followed by a label.

    Lines look like ``train/cat/0001.jpg 3`` (whitespace-separated). Blank
    lines and lines starting with ``#`` are ignored. Every path must stay
    inside ``root``: a list that points elsewhere is refused, not followed.

    Args:
        root: directory the listed paths are relative to.
        list_file: the text file (absolute, or relative to ``root``).
        classes: optional class names, index = label.
    """

    def __init__(self, root: str, list_file: str,
                 classes: Optional[Sequence[str]] = None):
        super().__init__(classes)
        self.root = osp.abspath(root)
        if not osp.isdir(self.root):
            raise FileNotFoundError(f'ImageList: image root {root!r} is not a '
                                    'directory')
        if not osp.isabs(list_file) and not osp.exists(list_file):
            list_file = osp.join(self.root, list_file)
        if not osp.isfile(list_file):
            raise FileNotFoundError(f'ImageList: list file {list_file!r} not '
                                    'found')
        with open(list_file) as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                parts = line.split()
                if len(parts) > 2:
                    raise ValueError(
                        f'{list_file}:{lineno}: expected "path [label]", got '
                        f'{line!r}')
                path = osp.normpath(osp.join(self.root, parts[0]))
                if os.path.commonpath([path, self.root]) != self.root:
                    raise ValueError(
                        f'{list_file}:{lineno}: path {parts[0]!r} points '
                        f'outside the image root {self.root!r}')
                try:
                    label = int(parts[1]) if len(parts) == 2 else -1
                except ValueError:
                    raise ValueError(f'{list_file}:{lineno}: label '
                                     f'{parts[1]!r} is not an integer')
                self.samples.append(dict(img_path=path, gt_label=label))
        self._check_not_empty(list_file)
