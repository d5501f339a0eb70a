from . import sources, transforms  # noqa: F401 (registers components)
from .dataset import PipelineDataset, build_pipeline

__all__ = ['PipelineDataset', 'build_pipeline']
