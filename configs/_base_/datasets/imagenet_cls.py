# ImageNet-1k in class sub-folders with MAE's finetune augmentation:
# RandomResizedCrop 224 (bicubic), flip, RandAugment rand-m9-mstd0.5-inc1,
# random erasing 0.25 ('pixel'); evaluation resizes to 256 and centre-crops
# 224. drop_last=True: mixup needs even batches.
data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=224, scale=(0.08, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='RandAugment', config_str='rand-m9-mstd0.5-inc1', img_size=224),
    dict(type='RandomErasing', prob=0.25, mode='pixel'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='Resize', size=256, interpolation='bicubic'),
    dict(type='CenterCrop', size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
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
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'val'),
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
