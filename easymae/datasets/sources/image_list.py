"""EasyCV's ImageList format: an image root and a text file listing paths."""
import os.path as osp
from typing import Optional, Sequence

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource, InsideRoot


@DATA_SOURCES.register_module()
class ImageList(BaseDataSource):
    """One relative image path per line, optionally followed by a label.

    Lines look like ``train/cat/0001.jpg 3`` (whitespace-separated). Blank
    lines and lines starting with ``#`` are ignored. The file must be UTF-8.
    Every path must stay inside ``root``, symbolic links resolved: a list
    (or a link in the image folder) that points elsewhere is refused, not
    followed.

    Args:
        root: directory the listed paths are relative to.
        list_file: the text file (absolute, or relative to ``root``).
        classes: optional class names, index = label.
        num_classes: labels must lie in ``[0, num_classes)``; checked when
            the list is read, naming the line. Defaults to
            ``len(classes)``; the config check fills it in from the
            model's ``head.num_classes`` when neither is given.
    """

    def __init__(self, root: str, list_file: str,
                 classes: Optional[Sequence[str]] = None,
                 num_classes: Optional[int] = None):
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
        if num_classes is None and self.classes:
            num_classes = len(self.classes)
        self.num_classes = num_classes
        inside = InsideRoot(self.root, 'image root')
        with open(list_file, 'rb') as f:
            for lineno, raw in enumerate(f, 1):
                where = f'{list_file}:{lineno}'
                try:
                    line = raw.decode('utf-8').strip()
                except UnicodeDecodeError as e:
                    raise ValueError(
                        f'{where}: not UTF-8 text (byte {raw[e.start]:#04x} '
                        f'at column {e.start + 1}); save the list file as '
                        'UTF-8') from None
                if not line or line.startswith('#'):
                    continue
                parts = line.split()
                if len(parts) > 2:
                    raise ValueError(
                        f'{where}: expected "path [label]", got {line!r}')
                path = osp.normpath(osp.join(self.root, parts[0]))
                problem = inside.problem(path)
                if problem:
                    raise ValueError(f'{where}: path {parts[0]!r} {problem}')
                try:
                    label = int(parts[1]) if len(parts) == 2 else -1
                except ValueError:
                    raise ValueError(f'{where}: label {parts[1]!r} is not an '
                                     'integer')
                if num_classes is not None and len(parts) == 2 and \
                        not 0 <= label < num_classes:
                    raise ValueError(
                        f'{where}: label {label} is outside the '
                        f'{num_classes} classes (0..{num_classes - 1})')
                self.samples.append(dict(img_path=path, gt_label=label))
        self._check_not_empty(list_file)

