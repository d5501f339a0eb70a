# The COCO-captions-mini FLIP run, read from tar shards instead of loose
# files: the streaming path (ShardDataset) end to end on the CPU. Make the
# shards first (4 shards of 20 image-caption samples):
#   python tools/make_shards.py --captions captions_train2017.json \
#       --data-root ../shared/data/coco_captions_mini --img-prefix train2017 \
#       --out data/shards/coco-mini --max-count 20
#   python tools/train.py configs/selfsup/flip/\
#       flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini-shards.py
_base_ = ['./flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini.py']
shard_prefix = 'data/shards/coco-mini'
train_dataloader = dict(
    _delete_=True,
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=None,
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='ShardDataset',
        urls=shard_prefix + '-{000000..000003}.tar',
        index_file=shard_prefix + '-index.json',
        shuffle_buffer=40,
        pipeline={{_base_.train_pipeline}}))
