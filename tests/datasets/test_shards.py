"""Streaming tar shards: tools/make_shards.py's writer and ShardDataset.

Real images (the CIFAR sample folder, COCO captions when the shared data is
there; the embedded digits always), real tar files, a real HTTP server on
127.0.0.1 and real DataLoader worker processes."""
import io
import json
import os
import os.path as osp
import shutil
import tarfile

import cv2
import numpy as np
import pytest
import torch
from flip_utils import shared_data
from hub_server import HubServer
from reliab_helpers import REPO, logged_scalars, run_train, write_config
from torch.utils.data import DataLoader

import easymae  # noqa: F401 (registers)
from easymae.datasets import ShardDataset
from easymae.datasets.sources.shards import ShardError, iter_tar, write_shards
from easymae.datasets.transforms.loading import BadImageError
from easymae.registry import DATA_SOURCES

PACK = [dict(type='LoadImage'), dict(type='PackInputs',
                                     meta_keys=('sample_idx', 'shard'))]


class Subset:
    """The first ``n`` samples of a source."""

    def __init__(self, source, n):
        self.source, self.n = source, n
        self.classes = getattr(source, 'classes', None)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.source[i]


@pytest.fixture(scope='module')
def digits():
    return DATA_SOURCES.build(dict(type='Digits', split='val', img_size=16))


@pytest.fixture(scope='module')
def digit_shards(tmp_path_factory, digits):
    """320 digits in 8 shards of 40."""
    out = tmp_path_factory.mktemp('digits')
    write_shards(Subset(digits, 320), str(out / 'd'), max_count=40)
    return out


def _load(ds, batch_size, num_workers, epoch=0):
    ds.configure(batch_size=batch_size)
    ds.set_epoch(epoch)
    loader = DataLoader(ds, batch_size=batch_size, num_workers=num_workers)
    return loader, list(loader)


# ------------------------------------------------------------ round trip
def test_round_trip_image_folder_bytes_and_labels(tmp_path):
    root = shared_data('cifar10', 'sample', 'train')
    source = DATA_SOURCES.build(dict(type='ImageFolder', root=root))
    index = write_shards(source, str(tmp_path / 'c'), max_count=64,
                         root=root)
    assert index['num_samples'] == len(source) == 250
    assert [s['num_samples'] for s in index['shards']] == [64, 64, 64, 58]
    assert sorted(os.listdir(tmp_path)) == [
        'c-000000.tar', 'c-000001.tar', 'c-000002.tar', 'c-000003.tar',
        'c-index.json']
    assert index['classes'] == source.classes
    label_of = {s['img_path']: s['gt_label'] for s in source.samples}
    seen = set()
    for shard in index['shards']:
        for raw in iter_tar(str(tmp_path / shard['url'])):
            meta = json.loads(raw['json'])
            path = osp.join(root, meta['path'])
            with open(path, 'rb') as f:
                assert raw['jpg'] == f.read()  # original bytes
            assert int(raw['cls']) == label_of[path] == meta['label']
            seen.add(path)
    assert seen == set(label_of)


def test_round_trip_coco_captions_through_the_pipeline(tmp_path):
    data_root = shared_data('coco_captions_mini')
    source = DATA_SOURCES.build(dict(
        type='ImageText', data_root=data_root,
        ann_file='captions_train2017.json', img_prefix='train2017'))
    write_shards(source, str(tmp_path / 'coco'), max_count=20,
                 root=data_root)
    ds = ShardDataset(index_file=str(tmp_path / 'coco-index.json'),
                      pipeline=[dict(type='LoadImage')], rank=0,
                      world_size=1, shuffle=False)
    by_idx = {}
    for sample in ds:
        by_idx[sample['sample_idx']] = sample
    assert len(by_idx) == len(source) == 80
    for i, sample in by_idx.items():
        want = source[i]
        assert sample['captions'] == want['captions']  # all five
        assert sample['gt_label'] == -1
        with open(want['img_path'], 'rb') as f:
            assert sample['img_bytes'] == f.read()
        pixels = cv2.cvtColor(cv2.imread(want['img_path']),
                              cv2.COLOR_BGR2RGB)
        assert np.array_equal(sample['img'], pixels)
        assert sample['img_path'].startswith(sample['shard'] + ':')


def test_tool_writes_jsonl_captions(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'make_shards', osp.join(REPO, 'tools', 'make_shards.py'))
    make_shards = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_shards)
    data_root = shared_data('coco_captions_mini')
    make_shards.main(['--captions', 'pairs_train2017.jsonl', '--data-root',
                      data_root, '--out', str(tmp_path / 'p'),
                      '--max-count', '30'])
    with open(tmp_path / 'p-index.json') as f:
        index = json.load(f)
    assert [s['num_samples'] for s in index['shards']] == [30, 30, 20]
    raw = next(iter_tar(str(tmp_path / 'p-000000.tar')))
    meta = json.loads(raw['json'])
    assert raw['txt'].decode() == meta['captions'][0]
    assert len(meta['captions']) == 5 and 'cls' not in raw


def test_digits_round_trip_is_pixel_exact(digit_shards, digits):
    ds = ShardDataset(index_file=str(digit_shards / 'd-index.json'),
                      pipeline=[dict(type='LoadImage')], rank=0,
                      world_size=1)
    assert len(ds) == 320 and ds.metainfo['classes'] == digits.classes
    got = {s['sample_idx']: s for s in ds}
    assert sorted(got) == list(range(320))
    for i in (0, 17, 319):
        assert np.array_equal(got[i]['img'], digits[i]['img'])
        assert got[i]['gt_label'] == digits[i]['gt_label']


# --------------------------------------------------- distribution, epochs
def test_every_sample_once_per_epoch_over_2_ranks_x_2_workers(
        digit_shards):
    urls = str(digit_shards / 'd-{000000..000007}.tar')
    index = str(digit_shards / 'd-index.json')
    for epoch in (0, 1):
        seen, orders = [], []
        worker_shards = []
        for rank in (0, 1):
            ds = ShardDataset(urls=urls, index_file=index, pipeline=PACK,
                              rank=rank, world_size=2, shuffle_buffer=16)
            assert len(ds) == 160
            loader, batches = _load(ds, 8, 2, epoch)
            assert len(batches) == len(loader) == 20
            plan = ds.plan(epoch, 2)
            worker_shards += [set(s) for s in plan['shards']]
            for b in batches:
                # a batch comes from one worker, reading its own shards
                assert any(set(b['data_samples']['shard']) <= s
                           for s in map(set, plan['shards']))
            ids = [int(i) for b in batches
                   for i in b['data_samples']['sample_idx']]
            seen += ids
            orders.append(ids)
        assert sorted(seen) == list(range(320))  # each exactly once
        # the four (rank, worker) readers hold disjoint shards, all 8
        assert sum(len(s) for s in worker_shards) == 8
        assert len(set().union(*worker_shards)) == 8
        if epoch == 0:
            first = orders
        else:
            assert orders != first  # reshuffled


def test_uneven_shards_keep_len_loader_batches(tmp_path, digits):
    write_shards(Subset(digits, 330), str(tmp_path / 'u'), max_count=50)
    for rank in (0, 1):
        ds = ShardDataset(index_file=str(tmp_path / 'u-index.json'),
                          pipeline=PACK, rank=rank, world_size=2)
        loader, batches = _load(ds, 8, 2)
        # 7 shards (6 x 50 + 30) dealt to 2 ranks x 2 workers: the batch
        # count still matches len(loader), and little is repeated
        assert len(batches) == len(loader) == 21
        ids = [int(i) for b in batches
               for i in b['data_samples']['sample_idx']]
        assert len(ids) == len(ds) == 165
        assert len(set(ids)) >= len(ids) - 2 * 8


def test_resume_mid_epoch_skips_exactly_what_was_seen(digit_shards):
    index = str(digit_shards / 'd-index.json')
    pipeline = [dict(type='LoadImage'),
                dict(type='RandomResizedCrop', size=12, scale=(0.3, 1.0)),
                dict(type='RandomHorizontalFlip'),
                dict(type='PackInputs', meta_keys=('sample_idx', ))]

    def run(skip):
        ds = ShardDataset(index_file=index, pipeline=pipeline, rank=1,
                          world_size=2, seed=3)
        ds.configure(batch_size=8)
        ds.set_epoch(2)
        if skip:
            ds.skip_batches(2, skip)
        return list(DataLoader(ds, batch_size=8, num_workers=2))

    full = run(0)
    rest = run(7)  # 7 batches trained before the checkpoint
    assert len(rest) == len(full) - 7
    for a, b in zip(full[7:], rest):
        assert torch.equal(a['data_samples']['sample_idx'],
                           b['data_samples']['sample_idx'])
        assert torch.equal(a['inputs'], b['inputs'])  # same augmentation


def test_without_set_epoch_each_pass_is_the_next_epoch(digit_shards):
    ds = ShardDataset(index_file=str(digit_shards / 'd-index.json'),
                      pipeline=PACK, rank=0, world_size=1)
    first = [s['data_samples']['sample_idx'] for s in ds]
    second = [s['data_samples']['sample_idx'] for s in ds]
    assert sorted(first) == sorted(second) and first != second
    # set_epoch with a new value starts the count there
    ds.set_epoch(1)
    assert [s['data_samples']['sample_idx'] for s in ds] == second
    ds.set_epoch(0)
    assert [s['data_samples']['sample_idx'] for s in ds] == first


# --------------------------------------------------------- URLs, errors
def test_http_shards_and_a_404_names_the_url(digit_shards):
    files = {name: open(digit_shards / name, 'rb').read()
             for name in os.listdir(digit_shards)}
    with HubServer(files) as server:
        base = server.url + '/files/'
        ds = ShardDataset(index_file=base + 'd-index.json', pipeline=PACK,
                          rank=0, world_size=1)
        assert ds.urls[0].startswith(base)
        ids = sorted(int(s['data_samples']['sample_idx']) for s in ds)
        assert ids == list(range(320))
        url = base + 'd-000099.tar'
        ds = ShardDataset(urls=[base + 'd-000000.tar', url],
                          num_samples=80, pipeline=PACK, rank=0,
                          world_size=1, shuffle=False)
        with pytest.raises(ShardError, match='HTTP 404') as e:
            list(ds)
        assert url in str(e.value)


def test_pipe_shards_and_a_failing_command(digit_shards):
    path = digit_shards / 'd-000003.tar'
    ds = ShardDataset(urls=f'pipe:cat {path}', num_samples=40, pipeline=PACK,
                      rank=0, world_size=1)
    assert len(list(ds)) == 40
    ds = ShardDataset(urls=f'pipe:cat {path}.missing', num_samples=40,
                      pipeline=PACK, rank=0, world_size=1)
    with pytest.raises(ShardError, match='exited with status') as e:
        list(ds)
    assert f'{path}.missing' in str(e.value)


def test_truncated_shard_names_the_shard(tmp_path, digit_shards):
    shutil.copytree(digit_shards, tmp_path / 's')
    bad = tmp_path / 's' / 'd-000005.tar'
    data = bad.read_bytes()
    bad.write_bytes(data[:len(data) // 2 + 100])  # inside a member
    ds = ShardDataset(index_file=str(tmp_path / 's' / 'd-index.json'),
                      pipeline=PACK, rank=0, world_size=1)
    with pytest.raises(Exception, match='d-000005.tar') as e:
        _load(ds, 8, 2)  # raised in a worker, re-raised here
    assert 'truncated' in str(e.value)
    # cut at a member boundary, tar alone cannot tell; the index can
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    bad.write_bytes(data[:members[30].offset])
    ds = ShardDataset(index_file=str(tmp_path / 's' / 'd-index.json'),
                      pipeline=PACK, rank=0, world_size=1)
    with pytest.raises(ShardError, match=r"d-000005.tar.*10 samples, the "
                       r"index says 40"):
        list(ds)


def _tar_with_imageless_sample(path, digits):
    import webdataset as wds
    ok, png = cv2.imencode('.png', digits[0]['img'])
    with wds.TarWriter(str(path)) as sink:
        for i in range(6):
            entry = {'__key__': f'{i:08d}', 'cls': b'3'}
            if i != 2:
                entry['png'] = png.tobytes()
            sink.write(entry)


def test_sample_without_image_is_named_or_counted(tmp_path, digits):
    path = tmp_path / 'holey.tar'
    _tar_with_imageless_sample(path, digits)
    ds = ShardDataset(urls=str(path), num_samples=6, pipeline=PACK, rank=0,
                      world_size=1, shuffle=False)
    with pytest.raises(BadImageError, match=r"holey.tar.*'00000002' has no"
                       " image file"):
        list(ds)
    ds = ShardDataset(urls=str(path), num_samples=5, pipeline=PACK, rank=0,
                      world_size=1, shuffle=False, on_bad_image='skip')
    out = list(ds)
    assert len(out) == 5 and ds.num_skipped == 1


def test_too_few_shards_or_no_length_is_an_error(digit_shards):
    with pytest.raises(ValueError, match='num_samples'):
        ShardDataset(urls=str(digit_shards / 'd-000000.tar'), rank=0,
                     world_size=1)
    with pytest.raises(ValueError, match='cannot feed 2 ranks'):
        ShardDataset(urls=str(digit_shards / 'd-000000.tar'),
                     num_samples=40, rank=0, world_size=2)


# -------------------------------------------------------------- training
SHARD_LOADER = '''
train_dataloader = dict(
    _delete_=True, batch_size=32, num_workers=2, sampler=None,
    collate_fn=dict(type='default_collate'), drop_last=True,
    dataset=dict(type='ShardDataset', index_file={index!r},
                 shuffle_buffer=64,
                 pipeline=[dict(type='LoadImage'),
                           dict(type='RandomResizedCrop', size=16,
                                scale=(0.5, 1.0), interpolation='bicubic'),
                           dict(type='PackInputs')]))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={epochs})
'''


def _shard_config(tmp_path, digit_shards, epochs, ckpt_interval):
    extra = SHARD_LOADER.format(index=str(digit_shards / 'd-index.json'),
                                epochs=epochs)
    return write_config(tmp_path, ckpt_interval=ckpt_interval,
                        ckpt_by_epoch=False, extra=extra)


@pytest.mark.slow
def test_tiny_mae_trains_from_shards(tmp_path, digit_shards):
    cfg = _shard_config(tmp_path, digit_shards, 1, 10)
    run_train(cfg, tmp_path / 'work')
    scalars = logged_scalars(tmp_path / 'work')
    # 320 samples / 32 = 10 iterations, as len(loader) said
    assert sorted(scalars) == list(range(1, 11))
    assert all(np.isfinite(r['loss']) for r in scalars.values())


@pytest.mark.slow
def test_resumed_shard_run_matches_the_uninterrupted_one(tmp_path,
                                                         digit_shards):
    cfg = _shard_config(tmp_path, digit_shards, 2, 4)
    work = tmp_path / 'work'
    run_train(cfg, work)
    full = logged_scalars(work)
    assert sorted(full) == list(range(1, 21))
    work2 = tmp_path / 'work2'
    # iteration 12 lies in the middle of the second epoch
    proc = run_train(cfg, work2, '--resume', str(work / 'iter_12.pth'))
    assert 'skipping its first 2 batches' in proc.stdout + proc.stderr
    resumed = logged_scalars(work2)
    assert sorted(resumed) == list(range(13, 21))
    for it in resumed:
        assert resumed[it]['loss'] == pytest.approx(full[it]['loss'],
                                                    rel=1e-6)
