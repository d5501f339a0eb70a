"""Data sources on real image files written by the test, and on the
embedded digits."""
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest

from easymae.datasets.sources import (
    CIFAR10,
    CIFAR100,
    Digits,
    ImageFolder,
    ImageList,
)
from easymae.datasets.transforms import BadImageError, LoadImage


def _write_jpeg(path, rng, size=(20, 24)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = rng.randint(0, 256, size=(*size, 3), dtype=np.uint8)
    assert cv2.imwrite(path, img)


@pytest.fixture
def image_tree(tmp_path):
    rng = np.random.RandomState(0)
    for cls in ('cat', 'dog'):
        for i in range(3):
            _write_jpeg(str(tmp_path / 'train' / cls / f'{i}.jpg'), rng)
    (tmp_path / 'train' / 'dog' / 'notes.txt').write_text('not an image')
    return tmp_path


def test_image_folder_lists_classes_and_labels(image_tree):
    src = ImageFolder(str(image_tree / 'train'))
    assert src.classes == ['cat', 'dog']
    assert len(src) == 6  # the .txt file is not an image
    labels = sorted(s['gt_label'] for s in src.samples)
    assert labels == [0, 0, 0, 1, 1, 1]
    assert all(s['img_path'].endswith('.jpg') for s in src.samples)


def test_image_folder_per_class_keeps_the_first_images(image_tree):
    src = ImageFolder(str(image_tree / 'train'), per_class=2)
    names = [osp.relpath(s['img_path'], image_tree / 'train')
             for s in src.samples]
    assert names == ['cat/0.jpg', 'cat/1.jpg', 'dog/0.jpg', 'dog/1.jpg']
    assert [s['gt_label'] for s in src.samples] == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="class 'cat' .* 3 images, fewer "
                       'than per_class=4'):
        ImageFolder(str(image_tree / 'train'), per_class=4)
    with pytest.raises(ValueError, match='per_class=0'):
        ImageFolder(str(image_tree / 'train'), per_class=0)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        ImageFolder(str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no class sub-folders'):
        ImageFolder(str(tmp_path / 'empty'))


def test_image_list_reads_paths_and_labels(image_tree):
    lst = image_tree / 'list.txt'
    lst.write_text('# comment\ntrain/cat/0.jpg 0\n\ntrain/dog/1.jpg 1\n')
    src = ImageList(str(image_tree), 'list.txt')
    assert len(src) == 2
    assert src[1]['gt_label'] == 1
    assert src[1]['img_path'] == str(image_tree / 'train' / 'dog' / '1.jpg')
    img = LoadImage()(src[0])['img']
    assert img.shape == (20, 24, 3) and img.dtype == np.uint8
    unlabelled = image_tree / 'unlabelled.txt'
    unlabelled.write_text('train/cat/0.jpg\n')
    assert ImageList(str(image_tree), str(unlabelled))[0]['gt_label'] == -1


def test_image_list_refuses_paths_outside_root(image_tree):
    (image_tree / 'evil.txt').write_text('../../etc/passwd 0\n')
    with pytest.raises(ValueError, match='outside the image root'):
        ImageList(str(image_tree), 'evil.txt')


def test_image_list_bad_label_names_line(image_tree):
    (image_tree / 'bad.txt').write_text('train/cat/0.jpg zero\n')
    with pytest.raises(ValueError, match=r'bad.txt:1: label'):
        ImageList(str(image_tree), 'bad.txt')


def test_digits_is_real_stratified_and_disjoint():
    train, val = Digits('train', img_size=32), Digits('val', img_size=32)
    assert len(train) + len(val) == 1797
    train_ids = {s['sample_idx'] for s in train.samples}
    val_ids = {s['sample_idx'] for s in val.samples}
    assert not train_ids & val_ids
    counts = np.bincount([s['gt_label'] for s in val.samples], minlength=10)
    assert counts.min() >= 30  # every class held out
    sample = train[5]
    img = sample['img']
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    # the pixels are the real 8x8 scan, upsampled: shrinking them back
    # matches sklearn's original closely
    from sklearn.datasets import load_digits
    original = load_digits().images[sample['sample_idx']]
    small = cv2.resize(img[:, :, 0].astype(np.float32), (8, 8),
                       interpolation=cv2.INTER_AREA)
    assert np.corrcoef(small.ravel(), original.ravel())[0, 1] > 0.9
    assert sample['gt_label'] == load_digits().target[sample['sample_idx']]


def _write_cifar(folder, names, n=4, meta=('batches.meta', 'label_names'),
                 label_key='labels', n_classes=10):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(1)
    with open(osp.join(folder, meta[0]), 'wb') as f:
        pickle.dump({meta[1]: [f'c{i}' for i in range(n_classes)]}, f)
    batches = {}
    for name in names:
        data = rng.randint(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.randint(0, n_classes, size=n).tolist()
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump({'data': data, label_key: labels}, f)
        batches[name] = (data, labels)
    return batches


def test_cifar10_reads_pickle_batches_in_channel_planes(tmp_path):
    folder = tmp_path / 'cifar-10-batches-py'
    batches = _write_cifar(str(folder), ['data_batch_1', 'test_batch'])
    src = CIFAR10(str(tmp_path), split='train', batches=['data_batch_1'])
    data, labels = batches['data_batch_1']
    assert len(src) == 4 and src.classes[3] == 'c3'
    img = src[2]['img']
    # R plane first, then G, then B (1024 values each), row-major
    assert img[0, 1, 0] == data[2, 1]
    assert img[0, 0, 1] == data[2, 1024]
    assert img[31, 31, 2] == data[2, 3071]
    assert src[2]['gt_label'] == labels[2]
    test = CIFAR10(str(tmp_path), split='test')
    assert len(test) == 4


def test_cifar_missing_batch_is_an_error_not_a_skip(tmp_path):
    _write_cifar(str(tmp_path / 'cifar-10-batches-py'), ['data_batch_1'])
    with pytest.raises(FileNotFoundError, match='data_batch_2'):
        CIFAR10(str(tmp_path), split='train')
    with pytest.raises(FileNotFoundError, match='download=True'):
        CIFAR10(str(tmp_path / 'nothing'))


def test_cifar100_fine_labels(tmp_path):
    _write_cifar(str(tmp_path / 'cifar-100-python'), ['train'],
                 meta=('meta', 'fine_label_names'), label_key='fine_labels',
                 n_classes=100)
    src = CIFAR100(str(tmp_path), split='train')
    assert len(src.classes) == 100 and len(src) == 4


def test_cifar_batch_that_runs_code_is_refused(tmp_path):
    folder = tmp_path / 'cifar-10-batches-py'
    _write_cifar(str(folder), ['data_batch_1'])
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    with open(folder / 'data_batch_1', 'wb') as f:
        pickle.dump({'data': Evil(), 'labels': [0]}, f)
    with pytest.raises(ValueError, match='data_batch_1'):
        CIFAR10(str(tmp_path), batches=['data_batch_1'])
    assert not marker.exists()


def test_shared_cifar_subset_loads(shared_data):
    root = osp.join(shared_data, 'cifar10', 'cifar-10-batches-py-subset')
    src = CIFAR10(root, split='train', batches=['data_batch_1'])
    assert len(src) == 1000 and src.classes[0] == 'airplane'
    test = CIFAR10(root, split='test')
    assert len(test) == 500


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_load_image_backends_agree_on_png(tmp_path, backend):
    rng = np.random.RandomState(2)
    rgb = rng.randint(0, 256, size=(10, 12, 3), dtype=np.uint8)
    path = str(tmp_path / 'x.png')
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    out = LoadImage(backend)(dict(img_path=path))['img']
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_bad_images_name_the_file(tmp_path, backend):
    rng = np.random.RandomState(3)
    good = str(tmp_path / 'good.jpg')
    _write_jpeg(good, rng, size=(64, 64))
    data = open(good, 'rb').read()
    truncated = tmp_path / 'truncated.jpg'
    truncated.write_bytes(data[:len(data) // 3])
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    text = tmp_path / 'text.jpg'
    text.write_text('hello, not a jpeg')
    for bad in (truncated, empty, text, tmp_path / 'missing.jpg'):
        with pytest.raises(BadImageError, match=bad.name):
            LoadImage(backend)(dict(img_path=str(bad)))
