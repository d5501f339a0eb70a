# The digits MAE, read from tar shards (PNGs written by make_shards): the
# smallest complete streaming run, on any machine. Make the shards first:
#   python tools/make_shards.py --digits --out data/shards/digits \
#       --max-count 360
#   python tools/train.py configs/selfsup/mae/\
#       mae_vit-tiny-d6-p4_1xb64-30e_digits-shards.py
_base_ = ['./mae_vit-tiny-d6-p4_1xb64-30e_digits.py']
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=None,
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='ShardDataset',
        index_file='data/shards/digits-index.json',
        shuffle_buffer=200,
        pipeline=[
            dict(type='LoadImage'),
            dict(type='RandomResizedCrop', size=32, scale=(0.5, 1.0),
                 interpolation='bicubic'),
            dict(type='PackInputs'),
        ]))
