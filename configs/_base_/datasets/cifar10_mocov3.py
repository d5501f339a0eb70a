# CIFAR-10 (32x32 JPEGs in class folders) for MoCo v3: the BYOL views of
# imagenet_mocov3.py at 32 px, without Gaussian blur (at 32 px it removes
# most of the image; SimCLR drops it on CIFAR for the same reason), so the
# views differ by solarisation (view 2, p=0.2).
data_root = 'data/cifar10/'
_common = [
    dict(type='RandomResizedCrop', size=32, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2),
    dict(type='RandomHorizontalFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='MultiView', pipelines=[
        _common, _common + [dict(type='Solarize', prob=0.2)]]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'train'),
        pipeline=train_pipeline))
