"""ImageNet-style folders: ``root/<class>/<image>``."""
import os
import os.path as osp
from typing import Optional, Sequence

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


@DATA_SOURCES.register_module()
class ImageFolder(BaseDataSource):
    """Classes are the sorted sub-folder names; labels are their indices.

    Args:
        root: folder holding one sub-folder per class.
        extensions: file name endings counted as images (case-insensitive).
        num_classes: when given, more class sub-folders than this is an
            error naming them (their labels would be out of the model's
            range); the config check fills it in from the model's
            ``head.num_classes``.
        per_class: when given, only the first ``per_class`` images of every
            class (in sorted path order) are kept: a fixed small labelled
            subset, e.g. for data-scarce transfer. A class with fewer
            images is an error naming it.
    """

    def __init__(self, root: str,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 num_classes: Optional[int] = None,
                 per_class: Optional[int] = None):
        if not osp.isdir(root):
            raise FileNotFoundError(f'ImageFolder: {root!r} is not a '
                                    'directory')
        classes = sorted(d.name for d in os.scandir(root) if d.is_dir())
        if not classes:
            raise ValueError(f'ImageFolder: {root!r} has no class '
                             'sub-folders')
        if num_classes is not None and len(classes) > num_classes:
            extra = classes[num_classes:]
            raise ValueError(
                f'ImageFolder: {root!r} has {len(classes)} class sub-folders '
                f'but num_classes={num_classes}: the labels of '
                f'{extra[:5]}{" ..." if len(extra) > 5 else ""} would be '
                'out of range')
        super().__init__(classes)
        self.num_classes = num_classes
        self.root = root
        exts = tuple(e.lower() for e in extensions)
        if per_class is not None and per_class < 1:
            raise ValueError(f'ImageFolder: per_class={per_class} must be '
                             'at least 1')
        for label, name in enumerate(classes):
            paths = [osp.join(dirpath, fname)
                     for dirpath, _, files in sorted(os.walk(osp.join(root,
                                                                      name)))
                     for fname in sorted(files)
                     if fname.lower().endswith(exts)]
            if per_class is not None:
                if len(paths) < per_class:
                    raise ValueError(
                        f'ImageFolder: class {name!r} of {root!r} has '
                        f'{len(paths)} images, fewer than per_class='
                        f'{per_class}')
                paths = paths[:per_class]
            self.samples += [dict(img_path=p, gt_label=label)
                             for p in paths]
        self._check_not_empty(root)
