# CIFAR-10 JPEGs in class sub-folders (the dev archive unpacked to
# data/cifar10/: train/ and val/), 32x32, MAE-Lite's augmentation for small
# ViTs: crop, flip, RandAugment rand-m10-mstd0.5-inc1, no random erasing
# (add dict(type='RandomErasing', prob=0.25) for MAE's ViT-B recipe).
data_root = 'data/cifar10/'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=32, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='RandAugment', config_str='rand-m10-mstd0.5-inc1', img_size=32),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImage', backend='cv2'),
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
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'val'),
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
