# ImageNet-1k train split in class sub-folders, MAE's augmentation.
data_root = 'data/imagenet/'
train_pipeline = [
    # lazy: RandomResizedCrop decodes JPEGs at 1/2-1/8 scale when its crop
    # allows (docs/performance.md)
    dict(type='LoadImage', backend='cv2', lazy=True),
    dict(type='RandomResizedCrop', size=224, scale=(0.2, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'train'),
        pipeline=train_pipeline))
