"""Labelled sentences (or sentence pairs) from a TSV/CSV file, GLUE style.

GLUE ships each task as a TSV with a header: SST-2 train is
``label<TAB>sentence``, this SST-2 dev ``label<TAB>content``; pair tasks
have two text columns. The header is detected (a first row whose label
cell is not a label), columns are picked by name (or by position in a
file without a header), and every label is checked against the classes
as the file is read, naming the line. ``max_samples`` draws a fixed
random subset (seeded), kept in file order, for small-data finetuning.
"""
import csv
import random
from typing import Iterator, List, Optional, Sequence, Union

from easymae.registry import DATA_SOURCES
from easymae.text.corpus import read_lines
from .base import BaseDataSource
from .line_corpus import resolve_ann_file

# text column names tried, in order, when none is given
TEXT_COLUMNS = ('sentence', 'content', 'text', 'sentence1', 'question')

Column = Union[str, int, None]


@DATA_SOURCES.register_module()
class TextClassification(BaseDataSource):
    """Args:
        ann_file: the .tsv/.csv file (absolute, or relative to data_root).
        data_root: folder ``ann_file`` is relative to.
        label_column: name (with a header) or 0-based position.
        text_column: name or position; None: the first of
            ``TEXT_COLUMNS`` in the header, or the column after the label
            in a file without one.
        text_pair_column: the second sentence of a pair task (optional).
        header: True, False, or None to detect it.
        delimiter: None: tab for .tsv, comma otherwise.
        classes: class names; a label cell may then be a name or an index.
        num_classes: labels must lie in ``[0, num_classes)``; defaults to
            ``len(classes)``, and the config check fills it in from the
            model's ``head.num_classes``.
        max_samples: keep a random subset of this many rows (None: all).
        seed: the subset's seed.
    """

    def __init__(self, ann_file: str, data_root: str = '',
                 label_column: Column = 'label', text_column: Column = None,
                 text_pair_column: Column = None,
                 header: Optional[bool] = None,
                 delimiter: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 num_classes: Optional[int] = None,
                 max_samples: Optional[int] = None, seed: int = 0):
        super().__init__(classes)
        self.ann_file = resolve_ann_file(ann_file, data_root,
                                         'TextClassification: annotation')
        if delimiter is None:
            delimiter = '\t' if self.ann_file.endswith('.tsv') else ','
        if num_classes is None and self.classes:
            num_classes = len(self.classes)
        self.num_classes = num_classes
        if max_samples is not None and max_samples < 1:
            raise ValueError(f'TextClassification: max_samples must be >= 1,'
                             f' got {max_samples}')
        rows = self._rows(delimiter)
        first_no, first = next(rows, (None, None))
        if first is None:
            raise ValueError(f'{self.ann_file}: empty file, no rows')
        if header is None:
            header = self._looks_like_header(first, label_column)
        if header:
            names = [c.strip() for c in first]
            label_idx = self._index(names, label_column, 'label_column')
            if text_column is None:
                text_column = next((c for c in TEXT_COLUMNS if c in names),
                                   None)
                if text_column is None:
                    raise KeyError(
                        f'{self.ann_file}: no text column among '
                        f'{list(TEXT_COLUMNS)} in the header {names}; set '
                        'text_column')
            text_idx = self._index(names, text_column, 'text_column')
            pair_idx = (None if text_pair_column is None else self._index(
                names, text_pair_column, 'text_pair_column'))
            data = rows
        else:
            label_idx = 0 if isinstance(label_column, str) else label_column
            text_idx = (label_idx + 1 if text_column is None
                        else text_column)
            pair_idx = text_pair_column
            for name, col in (('text_column', text_idx),
                              ('text_pair_column', pair_idx)):
                if isinstance(col, str):
                    raise KeyError(f'{self.ann_file}: {name}={col!r} names a '
                                   'column but the file has no header')
            data = _chain([(first_no, first)], rows)
        self._read(data, label_idx, text_idx, pair_idx)
        self._check_not_empty(self.ann_file)
        self.num_rows = len(self.samples)
        if max_samples is not None and max_samples < len(self.samples):
            keep = sorted(random.Random(seed).sample(
                range(len(self.samples)), max_samples))
            self.samples = [self.samples[i] for i in keep]
        for i, sample in enumerate(self.samples):
            sample['sample_idx'] = i

    # ------------------------------------------------------------ reading
    def _rows(self, delimiter: str) -> Iterator:
        lines = read_lines(self.ann_file)  # UTF-8 checked, line numbers
        numbered = ((no, line) for no, line in lines if line.strip())
        quoting = csv.QUOTE_NONE if delimiter == '\t' else csv.QUOTE_MINIMAL
        for no, line in numbered:
            for row in csv.reader([line], delimiter=delimiter,
                                  quoting=quoting):
                yield no, row

    def _parse_label(self, cell: str) -> Optional[int]:
        cell = cell.strip()
        if self.classes and cell in self.classes:
            return self.classes.index(cell)
        try:
            return int(cell)
        except ValueError:
            return None

    def _looks_like_header(self, first: List[str], label_column) -> bool:
        if isinstance(label_column, str):
            if label_column in [c.strip() for c in first]:
                return True
            label_column = 0
        if label_column >= len(first):
            return True
        return self._parse_label(first[label_column]) is None

    def _index(self, names: List[str], column, what: str) -> int:
        if isinstance(column, int):
            if not 0 <= column < len(names):
                raise KeyError(f'{self.ann_file}: {what}={column} is outside '
                               f'the {len(names)} columns {names}')
            return column
        if column not in names:
            raise KeyError(f'{self.ann_file}: no column {column!r} '
                           f'({what}) in the header {names}')
        return names.index(column)

    def _read(self, rows, label_idx: int, text_idx: int,
              pair_idx: Optional[int]) -> None:
        width = max(i for i in (label_idx, text_idx, pair_idx)
                    if i is not None) + 1
        n = self.num_classes
        for lineno, row in rows:
            where = f'{self.ann_file}:{lineno}'
            if len(row) < width:
                raise ValueError(f'{where}: {len(row)} column(s), expected at '
                                 f'least {width}: {row!r}')
            label = self._parse_label(row[label_idx])
            if label is None:
                known = f' or one of {self.classes}' if self.classes else ''
                raise ValueError(f'{where}: label {row[label_idx]!r} is not '
                                 f'an integer{known}')
            if n is not None and not 0 <= label < n:
                raise ValueError(f'{where}: label {label} is outside the {n}'
                                 f' classes (0..{n - 1})')
            sample = dict(text=row[text_idx].strip(), gt_label=label,
                          where=where)
            if pair_idx is not None:
                sample['text_pair'] = row[pair_idx].strip()
            self.samples.append(sample)


def _chain(head, tail):
    yield from head
    yield from tail
