# ImageNet-1k train split in class sub-folders, SimMIM's augmentation:
# RandomResizedCrop(224, scale (0.67, 1), ratio (3/4, 4/3)) + flip, then a
# 60% mask of 32 px blocks on the 16 px patch grid.
data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=224, scale=(0.67, 1.0),
         ratio=(3. / 4., 4. / 3.), interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=224, mask_patch_size=32,
         model_patch_size=16, mask_ratio=0.6),
    dict(type='PackInputs', meta_keys=('mask', )),
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
