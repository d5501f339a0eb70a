"""Image-text pairs for language-image pretraining (CLIP / FLIP).

Reads one of three layouts; the format follows the annotation file's ending:

* ``.jsonl`` - one JSON object per line, e.g. ``{"image": "a.jpg",
  "captions": ["...", "..."]}`` (a single string caption is accepted too);
* ``.tsv`` / ``.csv`` - a header row naming the image and caption columns;
  several captions of one image go in several rows (or, with
  ``caption_sep``, in one cell), and rows of the same image are merged;
* ``.json`` - COCO captions: ``images`` (``id``, ``file_name``) and
  ``annotations`` (``image_id``, ``caption``).

Each sample is ``dict(img_path, captions=[...], gt_label=-1, sample_idx)``;
``SampleCaption`` in the pipeline picks one caption per step, so every epoch
sees a different caption of the same image.
"""
import csv
import json
import os.path as osp
from collections import OrderedDict
from typing import Optional

from easymae.registry import DATA_SOURCES
from .base import BaseDataSource, InsideRoot

FORMATS = ('jsonl', 'tsv', 'csv', 'coco')


@DATA_SOURCES.register_module()
class ImageText(BaseDataSource):
    """Args:
        ann_file: the annotation file (absolute, or relative to
            ``data_root``).
        data_root: folder that image paths are relative to; every image must
            stay inside it.
        img_prefix: sub-folder of ``data_root`` joined before each image
            path (COCO json keeps bare file names, e.g. ``train2017``).
        format: one of 'jsonl', 'tsv', 'csv', 'coco'; guessed from the
            file name ending when None ('.json' -> 'coco').
        img_key / caption_key: field or column names for jsonl/tsv/csv.
            For jsonl, ``caption_key`` may hold a string or a list.
        caption_sep: for tsv/csv, split a caption cell on this string into
            several captions (None: one caption per cell).
    """

    def __init__(self, ann_file: str, data_root: str = '',
                 img_prefix: str = '', format: Optional[str] = None,
                 img_key: str = 'image', caption_key: str = 'captions',
                 caption_sep: Optional[str] = None):
        super().__init__()
        self.data_root = osp.abspath(data_root or '.')
        if not osp.isabs(ann_file) and not osp.exists(ann_file):
            ann_file = osp.join(self.data_root, ann_file)
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'ImageText: annotation file '
                                    f'{ann_file!r} not found')
        if format is None:
            format = self._guess_format(ann_file)
        if format not in FORMATS:
            raise ValueError(f'ImageText: format must be one of {FORMATS}, '
                             f'got {format!r}')
        self.ann_file, self.format = ann_file, format
        self.img_root = osp.normpath(osp.join(self.data_root, img_prefix))
        # symbolic links resolved: a link inside cannot lead outside
        self._inside = InsideRoot(self.data_root, 'data root')
        # image path -> captions, first-seen order (stable sample indices)
        pairs: 'OrderedDict[str, list]' = OrderedDict()
        if format == 'jsonl':
            self._read_jsonl(pairs, img_key, caption_key)
        elif format == 'coco':
            self._read_coco(pairs)
        else:
            self._read_table(pairs, img_key, caption_key, caption_sep,
                             '\t' if format == 'tsv' else ',')
        for i, (path, captions) in enumerate(pairs.items()):
            self.samples.append(dict(img_path=path, captions=captions,
                                     gt_label=-1, sample_idx=i))
        self._check_not_empty(ann_file)

    @staticmethod
    def _guess_format(ann_file: str) -> str:
        name = ann_file.lower()
        for ending, fmt in (('.jsonl', 'jsonl'), ('.tsv', 'tsv'),
                            ('.csv', 'csv'), ('.json', 'coco')):
            if name.endswith(ending):
                return fmt
        raise ValueError(f'ImageText: cannot tell the format of {ann_file!r}'
                         ' from its name; pass format= one of '
                         f'{FORMATS}')

    def _resolve(self, rel_path: str, where: str) -> str:
        if not isinstance(rel_path, str) or not rel_path:
            raise ValueError(f'{where}: image path must be a non-empty '
                             f'string, got {rel_path!r}')
        path = osp.normpath(osp.join(self.img_root, rel_path))
        problem = self._inside.problem(path)
        if problem:
            raise ValueError(f'{where}: image path {rel_path!r} {problem}')
        return path

    @staticmethod
    def _add(pairs, path: str, captions, where: str) -> None:
        captions = [c.strip() for c in captions if isinstance(c, str)
                    and c.strip()]
        if not captions:
            raise ValueError(f'{where}: no non-empty caption for {path!r}')
        pairs.setdefault(path, []).extend(captions)

    def _read_jsonl(self, pairs, img_key, caption_key) -> None:
        with open(self.ann_file, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f'{self.ann_file}:{lineno}'
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f'{where}: not valid JSON: {e}') from e
                for key in (img_key, caption_key):
                    if key not in row:
                        raise KeyError(f'{where}: missing key {key!r} (has '
                                       f'{sorted(row)})')
                caps = row[caption_key]
                self._add(pairs, self._resolve(row[img_key], where),
                          [caps] if isinstance(caps, str) else caps, where)

    def _read_table(self, pairs, img_key, caption_key, caption_sep,
                    delimiter) -> None:
        with open(self.ann_file, encoding='utf-8', newline='') as f:
            reader = csv.DictReader(f, delimiter=delimiter)
            for key in (img_key, caption_key):
                if key not in (reader.fieldnames or []):
                    raise KeyError(f'{self.ann_file}: no column {key!r} in '
                                   f'the header {reader.fieldnames}')
            for lineno, row in enumerate(reader, 2):
                where = f'{self.ann_file}:{lineno}'
                cell = row[caption_key] or ''
                caps = cell.split(caption_sep) if caption_sep else [cell]
                self._add(pairs, self._resolve(row[img_key], where), caps,
                          where)

    def _read_coco(self, pairs) -> None:
        with open(self.ann_file, encoding='utf-8') as f:
            try:
                coco = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{self.ann_file}: not valid JSON: '
                                 f'{e}') from e
        for key in ('images', 'annotations'):
            if key not in coco:
                raise KeyError(f"{self.ann_file}: COCO captions need "
                               f"'images' and 'annotations'; {key!r} missing")
        files = {}
        for img in coco['images']:
            files[img['id']] = self._resolve(img['file_name'],
                                             self.ann_file)
        for ann in coco['annotations']:
            if ann.get('image_id') not in files:
                raise ValueError(f'{self.ann_file}: annotation {ann.get("id")}'
                                 f' names image_id {ann.get("image_id")!r} '
                                 'that is not in images')
            self._add(pairs, files[ann['image_id']], [ann.get('caption')],
                      f'{self.ann_file}: annotation {ann.get("id")}')
        bare = [p for p in files.values() if p not in pairs]
        if bare:
            raise ValueError(f'{self.ann_file}: {len(bare)} image(s) have no '
                             f'caption, e.g. {bare[0]!r}')
        # images in the order of the images list, each with its captions
        ordered = OrderedDict((p, pairs[p]) for p in files.values())
        pairs.clear()
        pairs.update(ordered)
