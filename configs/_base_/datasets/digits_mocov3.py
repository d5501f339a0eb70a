# The embedded digits (no download) for MoCo v3: two views at 32 px. Grey
# images: colour jitter acts through brightness and contrast; no flip
# (mirrored digits are other symbols) and the milder crop scale of the
# digits recipes (docs/design_decisions.md).
_common = [
    dict(type='RandomResizedCrop', size=32, scale=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, prob=0.8),
]
train_pipeline = [
    dict(type='MultiView', pipelines=[
        _common + [dict(type='GaussianBlur', sigma=(0.1, 1.0), prob=1.0)],
        _common + [dict(type='GaussianBlur', sigma=(0.1, 1.0), prob=0.1),
                   dict(type='Solarize', prob=0.2)]]),
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
