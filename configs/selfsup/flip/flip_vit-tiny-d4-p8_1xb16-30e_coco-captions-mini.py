# FLIP end to end on real captioned photos, on the CPU in a minute or two:
# the 80 COCO train2017 images x 5 captions of coco_captions_mini in the
# shared data folder beside the checkout (COCO-captions json), 64 px crops
# in 8 px patches (64 patches, half removed), one random caption of five
# per step.
# Too small to mean anything for accuracy; it exercises the whole path.
#   python tools/train.py configs/selfsup/flip/\
#       flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini.py
# Point it elsewhere with --cfg-options data_root=... (then also
# train_dataloader.dataset.data_source.data_root=...).
_base_ = [
    '../../_base_/models/flip_vit-tiny-d4-p4.py',
    '../../_base_/schedules/adamw_coslr_flip_small.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(img_size=64, patch_size=8))
data_root = '../shared/data/coco_captions_mini'
train_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='RandomResizedCrop', size=64, scale=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='RandomHorizontalFlip', prob=0.5),
    dict(type='SampleCaption'),
    dict(type='Tokenize', context_length=32),
    dict(type='PackInputs', meta_keys=('text', )),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='ImageText', data_root=data_root,
                         ann_file='captions_train2017.json',
                         img_prefix='train2017'),
        pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
