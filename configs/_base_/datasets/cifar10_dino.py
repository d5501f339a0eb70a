# CIFAR-10 (32x32 JPEGs in class folders) for DINO: the ImageNet crops
# scaled to 32 px: 2 global 32 px crops, scale (0.4, 1), and 6 local 16 px
# crops, scale (0.05, 0.4) (a 4x4 grid of 4-px patches); no blur at this
# size (as cifar10_mocov3.py), solarise p=0.2 on global 2.
data_root = 'data/cifar10/'
_colour = [
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2),
]
_global = dict(type='RandomResizedCrop', size=32, scale=(0.4, 1.0),
               interpolation='bicubic')
local = [dict(type='RandomResizedCrop', size=16, scale=(0.05, 0.4),
              interpolation='bicubic')] + _colour
num_local_crops = 6
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='MultiView',
         pipelines=[[_global] + _colour,
                    [_global] + _colour + [dict(type='Solarize', prob=0.2)],
                    local],
         num_views=[1, 1, num_local_crops]),
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
