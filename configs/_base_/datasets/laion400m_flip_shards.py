# LAION-style image-text pairs streamed from webdataset tar shards (as
# img2dataset writes them: jpg + txt (+ json) per sample), FLIP's
# augmentation as in laion400m_flip.py. Make shards from a local pairs
# file with tools/make_shards.py --captions, or point `shard_urls` at
# existing ones: a brace pattern on shared storage, http(s)://... or
# 'pipe:aws s3 cp s3://bucket/laion-{000000..041407}.tar -'.
# Every rank and every DataLoader worker reads its own shards; with 256
# ranks x 8 workers that needs >= 2,048 shards (LAION-400M: ~41k of 10k).
data_root = 'data/laion400m/'
shard_urls = data_root + 'shards/laion-{000000..041407}.tar'
# the index written by make_shards gives the sample count per shard; for
# shards made elsewhere, drop it and declare num_samples (an epoch's
# length over all ranks) instead
shard_index = data_root + 'shards/laion-index.json'
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
    # an IterableDataset takes no sampler: the dataset splits the shards
    # by rank and worker itself (seed and epoch from DistSamplerSeedHook)
    sampler=None,
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='ShardDataset',
        urls=shard_urls,
        index_file=shard_index,
        # samples held per worker for shuffling (raw bytes: ~50 MB at
        # ~50 KB a LAION jpg); shard order is reshuffled every epoch
        shuffle_buffer=1000,
        # a broken image of a web crawl is skipped and counted
        on_bad_image='skip',
        pipeline=train_pipeline))
