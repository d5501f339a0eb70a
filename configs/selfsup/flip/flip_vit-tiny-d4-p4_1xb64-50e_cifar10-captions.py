# FLIP on CIFAR-10 JPEGs with captions made from the labels: each training
# image gets the 10 'cifar' prompt templates filled with its class name
# ("a blurry photo of a cat.") and one is drawn per step; evaluation is
# zero-shot classification of the val images against the same templates
# (top-1 / top-5 of ZeroShotAccuracy) every 10 epochs, and for any checkpoint
# with tools/zero_shot.py CONFIG CKPT (runner.test()).
# Default data: cifar10/sample of the shared data folder beside the
# checkout (25 train / 5 val per class).
# For the 10k-image dev split, unpack cifar10_dev_jpg.tar.gz somewhere and
#   --cfg-options train_dataloader.dataset.data_source.data_source.root=D/train
#                 val_dataloader.dataset.data_source.root=D/val
#                 test_dataloader.dataset.data_source.root=D/val
_base_ = [
    '../../_base_/models/flip_vit-tiny-d4-p4.py',
    '../../_base_/schedules/adamw_coslr_flip_small.py',
    '../../_base_/default_runtime.py',
]
data_root = '../shared/data/cifar10/sample/'
templates = 'cifar'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=32, scale=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='SampleCaption'),
    dict(type='Tokenize', context_length=32),
    dict(type='PackInputs', meta_keys=('text', )),
]
test_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='Resize', size=(32, 32)),
    dict(type='PackInputs', meta_keys=('gt_label', )),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(
            type='ClassCaptions', templates=templates,
            data_source=dict(type='ImageFolder', root=data_root + 'train')),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ZeroShotAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='ZeroShotClassifierHook', templates=templates)]
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=10)
default_hooks = dict(logger=dict(interval=3),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=3)
