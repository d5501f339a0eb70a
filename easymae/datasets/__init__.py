from . import samplers, sources, transforms  # noqa: F401 (registers)
from .dataset import PipelineDataset, build_pipeline
from .joint import JointDataset, JointSampler, joint_collate
from .shard_dataset import ShardDataset

__all__ = ['PipelineDataset', 'ShardDataset', 'build_pipeline',
           'JointDataset', 'JointSampler', 'joint_collate']
