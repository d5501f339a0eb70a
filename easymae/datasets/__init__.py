from . import samplers, sources, transforms  # noqa: F401 (registers)
from .dataset import PipelineDataset, build_pipeline

__all__ = ['PipelineDataset', 'build_pipeline']
