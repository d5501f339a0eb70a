# CIFAR-10 JPEGs in class sub-folders (e.g. the dev archive unpacked
# to data/cifar10/), 32x32, SimMIM's crop scale and a 60% mask of
# 8 px blocks on the 4 px patch grid.
data_root = 'data/cifar10/'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=32, scale=(0.67, 1.0),
         ratio=(3. / 4., 4. / 3.), interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=32, mask_patch_size=8,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs', meta_keys=('mask', )),
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
