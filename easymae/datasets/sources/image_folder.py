"""ImageNet-style folders: ``root/<class>/<image>``."""
import os
import os.path as osp
from typing import Sequence

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


@DATA_SOURCES.register_module()
class ImageFolder(BaseDataSource):
    """Classes are the sorted sub-folder names; labels are their indices.

    Args:
        root: folder holding one sub-folder per class.
        extensions: file name endings counted as images (case-insensitive).
    """

    def __init__(self, root: str,
                 extensions: Sequence[str] = IMG_EXTENSIONS):
        if not osp.isdir(root):
            raise FileNotFoundError(f'ImageFolder: {root!r} is not a '
                                    'directory')
        classes = sorted(d.name for d in os.scandir(root) if d.is_dir())
        if not classes:
            raise ValueError(f'ImageFolder: {root!r} has no class '
                             'sub-folders')
        super().__init__(classes)
        self.root = root
        exts = tuple(e.lower() for e in extensions)
        for label, name in enumerate(classes):
            for dirpath, _, files in sorted(os.walk(osp.join(root, name))):
                for fname in sorted(files):
                    if fname.lower().endswith(exts):
                        self.samples.append(
                            dict(img_path=osp.join(dirpath, fname),
                                 gt_label=label))
        self._check_not_empty(root)
