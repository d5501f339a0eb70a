# The embedded default for classification: scikit-learn's digits at 32x32,
# train on Digits(split='train') (1,437 images), evaluate top-1 on the
# held-out Digits(split='val') (360 images). Light augmentation (crop only:
# flips would turn digits into other shapes). drop_last=True for mixup.
train_pipeline = [
    dict(type='RandomResizedCrop', size=32, scale=(0.6, 1.0),
         ratio=(0.8, 1.25), interpolation='bicubic'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
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
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='Digits', split='val', img_size=32),
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
