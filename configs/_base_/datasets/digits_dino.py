# The embedded digits (no download) for DINO: 2 global 32 px crops and 4
# local 16 px crops; brightness/contrast jitter, no flip (see
# digits_mocov3.py).
_jitter = [dict(type='ColorJitter', brightness=0.4, contrast=0.4, prob=0.8)]
_global = [dict(type='RandomResizedCrop', size=32, scale=(0.5, 1.0),
                interpolation='bicubic')] + _jitter
local = [dict(type='RandomResizedCrop', size=16, scale=(0.2, 0.5),
              interpolation='bicubic')] + _jitter
num_local_crops = 4
train_pipeline = [
    dict(type='MultiView',
         pipelines=[_global, _global + [dict(type='Solarize', prob=0.2)],
                    local],
         num_views=[1, 1, num_local_crops]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='Digits', split='train', img_size=32),
        pipeline=train_pipeline))
