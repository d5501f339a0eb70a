# ImageNet-1k for DINO (facebookresearch/dino main_dino.py
# DataAugmentationDINO): 2 global crops RandomResizedCrop(224,
# scale=(0.4, 1)) and 8 local crops RandomResizedCrop(96,
# scale=(0.05, 0.4)), bicubic; flip, ColorJitter(0.4, 0.4, 0.2, 0.1) p=0.8,
# grey p=0.2 on every crop; blur p=1.0 on global 1, p=0.1 + solarise p=0.2
# on global 2, p=0.5 on the locals.
data_root = 'data/imagenet/'
_colour = [
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2),
]
_global = dict(type='RandomResizedCrop', size=224, scale=(0.4, 1.0),
               interpolation='bicubic')
global1 = [_global] + _colour + [dict(type='GaussianBlur', prob=1.0)]
global2 = [_global] + _colour + [dict(type='GaussianBlur', prob=0.1),
                                 dict(type='Solarize', prob=0.2)]
local = [dict(type='RandomResizedCrop', size=96, scale=(0.05, 0.4),
              interpolation='bicubic')] + _colour + \
    [dict(type='GaussianBlur', prob=0.5)]
num_local_crops = 8
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='MultiView', pipelines=[global1, global2, local],
         num_views=[1, 1, num_local_crops]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageFolder', root=data_root + 'train'),
        pipeline=train_pipeline))
