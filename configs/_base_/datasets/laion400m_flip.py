# Image-text pairs listed in a tsv (columns `image`, `caption`; rows of the
# same image merge into one sample with several captions), FLIP's
# augmentation: RandomResizedCrop(224, area 0.5-1) + flip, one caption per
# step, 32 CLIP-BPE tokens.
data_root = 'data/laion400m/'
context_length = 32
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=224, scale=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='SampleCaption'),
    dict(type='Tokenize', context_length=context_length),
    dict(type='PackInputs', meta_keys=('text', )),
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
        # a broken or missing image of a web crawl is replaced and counted
        on_bad_image='skip',
        data_source=dict(type='ImageText', data_root=data_root,
                         ann_file='pairs.tsv', img_key='image',
                         caption_key='caption'),
        pipeline=train_pipeline))
