"""Bad images, with real files: a truncated JPEG, a zero-byte file, a file
that is not an image and a missing file. 'error' names the file; 'skip'
replaces the sample and counts it, in DataLoader workers too, and the
count reaches the training log."""
import glob
import os
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
from reliab_helpers import REPO, logged_scalars, run_train, write_config
from torch.utils.data import DataLoader

from easymae.apis import build_runner, load_config
from easymae.datasets.dataset import PipelineDataset
from easymae.datasets.sources import ImageFolder, ImageList, ImageText
from easymae.datasets.transforms.loading import BadImageError

BAD = ('truncated.jpg', 'empty.jpg', 'notes.jpg', 'missing.jpg')


def _image_list(folder, n_good=10):
    """Real JPEGs (cut from a digit-like gradient) plus the four bad kinds;
    returns (root, list file, bad paths)."""
    root = osp.join(str(folder), 'imgs')
    os.makedirs(root)
    rng = np.random.RandomState(0)
    names = []
    for i in range(n_good):
        img = (rng.rand(24, 24, 3) * 255).astype(np.uint8)
        cv2.imwrite(osp.join(root, f'good{i}.jpg'), img)
        names.append(f'good{i}.jpg')
    with open(osp.join(root, 'good0.jpg'), 'rb') as f:
        jpeg = f.read()
    with open(osp.join(root, 'truncated.jpg'), 'wb') as f:
        f.write(jpeg[:len(jpeg) // 2])  # a download cut half-way
    open(osp.join(root, 'empty.jpg'), 'wb').close()
    with open(osp.join(root, 'notes.jpg'), 'w') as f:
        f.write('this is a text file with an image name\n')
    # missing.jpg is listed but never written
    names[2:2] = BAD
    list_file = osp.join(str(folder), 'list.txt')
    with open(list_file, 'w') as f:
        f.write(''.join(f'{n} 0\n' for n in names))
    return root, list_file, [osp.join(root, b) for b in BAD], names


def _dataset(root, list_file, on_bad_image, backend='cv2'):
    return PipelineDataset(
        data_source=dict(type='ImageList', root=root, list_file=list_file),
        pipeline=[dict(type='LoadImage', backend=backend),
                  dict(type='Resize', size=16), dict(type='PackInputs')],
        on_bad_image=on_bad_image)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_error_mode_names_each_bad_file(tmp_path, backend):
    root, list_file, bad, names = _image_list(tmp_path)
    ds = _dataset(root, list_file, 'error', backend)
    for path in bad:
        with pytest.raises(BadImageError) as info:
            ds[names.index(osp.basename(path))]
        assert repr(path) in str(info.value)
        assert 'on_bad_image="skip"' in str(info.value)
    assert ds[0]['inputs'].shape == (3, 16, 16)  # good files still load


def test_skip_mode_counts_in_dataloader_workers(tmp_path):
    root, list_file, bad, names = _image_list(tmp_path)
    # one pass in this process: the reference count (a replacement may be
    # bad too, and counts then)
    ds0 = _dataset(root, list_file, 'skip')
    for i in range(len(ds0)):
        assert ds0[i]['inputs'].shape == (3, 16, 16)
    assert ds0.num_skipped >= len(BAD)
    assert {f.split("'")[1] for f in ds0.skipped_files} >= set(bad)

    ds = _dataset(root, list_file, 'skip')
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        multiprocessing_context='fork',
                        collate_fn=lambda b: b)
    samples = [s for batch in loader for s in batch]
    assert len(samples) == len(names)  # every bad one was replaced
    assert ds.num_skipped == ds0.num_skipped  # counted across processes
    assert ds.skipped_files == []  # this process decoded nothing itself


@pytest.mark.slow
def test_skip_count_reaches_the_training_log(tmp_path):
    root, list_file, bad, names = _image_list(tmp_path, n_good=14)
    extra = f'''
train_dataloader = dict(batch_size=6, num_workers=2, dataset=dict(
    _delete_=True, type='PipelineDataset', on_bad_image='skip',
    data_source=dict(type='ImageList', root={root!r},
                     list_file={list_file!r}),
    pipeline=[dict(type='LoadImage'), dict(type='Resize', size=16),
              dict(type='PackInputs')]))
train_cfg = dict(max_epochs=2)
default_hooks = dict(bad_images=dict(type='BadImageCounterHook',
                                     interval=1))
'''
    cfg = load_config(write_config(tmp_path, extra=extra),
                      dict(experiment_name=uuid.uuid4().hex))
    runner = build_runner(cfg, work_dir=str(tmp_path / 'work'))
    runner.train()
    logged = logged_scalars(runner.work_dir)
    final = logged[max(logged)]['bad_images_skipped']
    # 18 samples, 3 full batches of 6 per epoch, each bad file met per epoch
    assert final >= 2 * len(BAD)
    logs = glob.glob(osp.join(runner.work_dir, '*', '*.log'))
    text = ''.join(open(p).read() for p in logs)
    assert 'bad image(s) skipped' in text
    assert 'truncated.jpg' in text  # the warning names the file


# ---- list files and folders that cannot work, refused when read ----------

def _small_tree(folder, lines):
    """A folder of two real JPEGs and a list file with ``lines`` (bytes)."""
    root = osp.join(str(folder), 'imgs')
    os.makedirs(root)
    for i in range(2):
        cv2.imwrite(osp.join(root, f'good{i}.jpg'),
                    np.full((8, 8, 3), 40 * i, np.uint8))
    list_file = osp.join(str(folder), 'list.txt')
    with open(list_file, 'wb') as f:
        f.write(lines)
    return root, list_file


def test_label_outside_the_classes_names_file_line_and_label(tmp_path):
    root, list_file = _small_tree(
        tmp_path, b'good0.jpg 3\n# a comment\ngood1.jpg 99\n')
    with pytest.raises(ValueError) as info:
        ImageList(root=root, list_file=list_file, num_classes=10)
    assert f'{list_file}:3: label 99 is outside the 10 classes (0..9)' in \
        str(info.value)
    # the same list is fine for 100 classes, and with no count given
    assert len(ImageList(root=root, list_file=list_file,
                         num_classes=100)) == 2
    assert len(ImageList(root=root, list_file=list_file)) == 2
    # class names give the count
    with pytest.raises(ValueError, match='outside the 4 classes'):
        ImageList(root=root, list_file=list_file, classes=list('abcd'))


@pytest.mark.slow
def test_classifier_run_refuses_a_label_beyond_its_head(tmp_path):
    # a real classification config: the model's head has 10 classes, the
    # list file (no num_classes given) has a label 99 on line 2. Refused
    # when the data is read, naming the line, not in mixup at iteration 2.
    root, list_file = _small_tree(tmp_path, b'good0.jpg 1\ngood1.jpg 99\n')
    config = osp.join(REPO, 'configs', 'classification', 'mae',
                      'vit-tiny-d6-p4_linear-probe_1xb64-coslr-10e_digits.py')
    extra = tmp_path / 'cfg.py'
    extra.write_text(f'''_base_ = [{config!r}]
train_dataloader = dict(batch_size=2, dataset=dict(
    _delete_=True, type='PipelineDataset',
    data_source=dict(type='ImageList', root={root!r},
                     list_file={list_file!r}),
    pipeline=[dict(type='LoadImage'), dict(type='Resize', size=32),
              dict(type='PackInputs')]))
''')
    proc = run_train(extra, tmp_path / 'work', check=False)
    assert proc.returncode != 0
    assert f'{list_file}:2: label 99 is outside the 10 classes' in \
        proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr


def test_list_file_that_is_not_utf8_names_file_and_line(tmp_path):
    # latin-1 'é' in the third line's file name
    root, list_file = _small_tree(
        tmp_path, b'good0.jpg 0\ngood1.jpg 0\ncaf\xe9.jpg 1\n')
    with pytest.raises(ValueError) as info:
        ImageList(root=root, list_file=list_file)
    msg = str(info.value)
    assert msg.startswith(f'{list_file}:3: not UTF-8 text (byte 0xe9 at '
                          'column 4)')
    assert not isinstance(info.value, UnicodeDecodeError)


def test_symlink_inside_the_root_cannot_lead_outside(tmp_path):
    root, list_file = _small_tree(tmp_path, b'')
    outside = tmp_path / 'outside'
    outside.mkdir()
    secret = outside / 'secret.jpg'
    secret.write_bytes(open(osp.join(root, 'good0.jpg'), 'rb').read())
    os.symlink(str(secret), osp.join(root, 'link.jpg'))
    os.symlink(str(outside), osp.join(root, 'linked_dir'))
    os.symlink(osp.join(root, 'good1.jpg'), osp.join(root, 'alias.jpg'))
    for listed in ('link.jpg', 'linked_dir/secret.jpg'):
        with open(list_file, 'w') as f:
            f.write(f'good0.jpg 0\n{listed} 0\n')
        with pytest.raises(ValueError) as info:
            ImageList(root=root, list_file=list_file)
        assert f'{list_file}:2: path {listed!r} resolves, through a ' \
            f'symbolic link, to {str(secret)!r}' in str(info.value)
    # a link that stays inside the root is fine
    with open(list_file, 'w') as f:
        f.write('good0.jpg 0\nalias.jpg 0\n')
    assert len(ImageList(root=root, list_file=list_file)) == 2
    # image-text annotations get the same check
    ann = tmp_path / 'pairs.jsonl'
    ann.write_text('{"image": "link.jpg", "captions": "a secret"}\n')
    with pytest.raises(ValueError, match='through a symbolic link'):
        ImageText(ann_file=str(ann), data_root=root)


def test_image_folder_with_more_classes_than_the_model(tmp_path):
    for name in ('ant', 'bee', 'cat'):
        os.makedirs(tmp_path / name)
        cv2.imwrite(str(tmp_path / name / 'a.jpg'),
                    np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError) as info:
        ImageFolder(root=str(tmp_path), num_classes=2)
    assert "has 3 class sub-folders but num_classes=2: the labels of " \
        "['cat'] would be out of range" in str(info.value)
    assert len(ImageFolder(root=str(tmp_path), num_classes=3)) == 3
