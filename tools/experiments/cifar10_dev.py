"""The CIFAR-10 dev split of the shared data folder, unpacked once and
verified: 10,000 train / 2,000 val JPEGs in class folders, the data of the
results-page grids (``run_results.py``)."""
import hashlib
import os
import os.path as osp
import tarfile

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEV_TAR = 'cifar10/cifar10_dev_jpg.tar.gz'
DEV_SHA256 = ('026c41a6d368ba15901457a190c8aae0'
              '00e72c85571a29d087222c14e17a1f6a')
DEV_COUNTS = {'train': 10000, 'val': 2000}


def shared_data_dir():
    env = os.environ.get('EASYMAE_SHARED_DATA')
    return env or osp.join(osp.dirname(REPO), 'shared', 'data')


def count_images(root):
    return sum(len([f for f in files if f.endswith('.jpg')])
               for _, _, files in os.walk(root))


def ensure_cifar10_dev(cache):
    """Unpack the dev archive once into ``cache/cifar10_dev`` (unpacked to a
    temporary folder and renamed, so a half-unpacked tree is never used)."""
    dest = osp.join(cache, 'cifar10_dev')
    done = osp.join(dest, '.complete')
    if osp.isfile(done):
        return dest
    if osp.isdir(dest) and all(count_images(osp.join(dest, s)) == n
                               for s, n in DEV_COUNTS.items()):
        open(done, 'w').close()  # unpacked earlier by hand: counts match
        return dest
    tar = osp.join(shared_data_dir(), DEV_TAR)
    if not osp.isfile(tar):
        raise SystemExit(f'CIFAR-10 dev archive not found: {tar} (set '
                         'EASYMAE_SHARED_DATA to the shared/data folder)')
    digest = hashlib.sha256(open(tar, 'rb').read()).hexdigest()
    if digest != DEV_SHA256:
        raise SystemExit(f'{tar}: sha256 {digest} is not the expected '
                         f'{DEV_SHA256}')
    tmp = dest + f'.tmp{os.getpid()}'
    os.makedirs(tmp)
    with tarfile.open(tar) as t:
        t.extractall(tmp, filter='data')
    for split, n in DEV_COUNTS.items():
        got = count_images(osp.join(tmp, split))
        if got != n:
            raise SystemExit(f'{tar}: {split}/ holds {got} images, not {n}')
    if osp.isdir(dest):
        raise SystemExit(f'{dest} exists but is incomplete; remove it')
    os.rename(tmp, dest)
    open(done, 'w').close()
    return dest
