"""The data-source contract: an indexable list of samples.

A data source knows *where* samples are (paths, arrays, labels) and nothing
about tensors; the pipeline turns one sample dict into model inputs.
A sample is a dict with ``img_path`` (a file to decode) or ``img`` (an RGB
uint8 HxWx3 array), plus ``gt_label`` (int, -1 when unlabelled).
"""
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
