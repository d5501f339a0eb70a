# The embedded default: scikit-learn's handwritten digits, upsampled to 32x32.
# Works on a fresh machine with no data download.
train_pipeline = [
    dict(type='RandomResizedCrop', size=32, scale=(0.5, 1.0),
         interpolation='bicubic'),
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
