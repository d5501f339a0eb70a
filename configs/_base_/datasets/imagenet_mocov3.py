# ImageNet-1k for MoCo v3 (moco-v3 main_moco.py, BYOL's augmentation): two
# views of each image, both RandomResizedCrop(224, scale=(0.08, 1)),
# ColorJitter(0.4, 0.4, 0.2, 0.1) p=0.8, grey p=0.2, flip; asymmetric
# blur / solarisation: view 1 blur p=1.0, view 2 blur p=0.1 + solarise
# p=0.2.
data_root = 'data/imagenet/'
_common = [
    dict(type='RandomResizedCrop', size=224, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2),
]
view1 = _common + [
    dict(type='GaussianBlur', sigma=(0.1, 2.0), prob=1.0),
    dict(type='RandomHorizontalFlip', prob=0.5),
]
view2 = _common + [
    dict(type='GaussianBlur', sigma=(0.1, 2.0), prob=0.1),
    dict(type='Solarize', threshold=128, prob=0.2),
    dict(type='RandomHorizontalFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='MultiView', pipelines=[view1, view2]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
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
