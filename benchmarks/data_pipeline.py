"""Images/s of ONE loader worker: decode + RandomResizedCrop + flip.

Ours (easymae's LoadImage + RandomResizedCrop + RandomHorizontalFlip +
PackInputs, uint8 out; normalisation happens later, on the device) against
torchvision's default (PIL decode, bicubic RandomResizedCrop, flip, ToTensor
+ Normalize to float), on the same files, in one process, one thread,
round-robin repeats, median.

    python benchmarks/data_pipeline.py --data DIR
    EASYMAE_SHARED_DATA=DIR python benchmarks/data_pipeline.py

File sets, each used when DIR has it: photos (``photos/**/*.jpg`` and
``*.png``, -> 224 px) and CIFAR-10 JPEGs (``cifar10/sample/*/*/*.jpg``,
32 px, -> 32 px as the CIFAR config does). Without ``--data`` or
``$EASYMAE_SHARED_DATA``, DIR is the shared data folder beside the
checkout. The last line printed is one JSON object.
"""
import argparse
import glob
import os
import os.path as osp
import random
import statistics
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import cv2  # noqa: E402
import torch  # noqa: E402

from easymae.datasets.dataset import build_pipeline  # noqa: E402
from report import emit  # noqa: E402

MAE_SCALE = (0.2, 1.0)  # MAE's pretraining crop scale, used by both sides
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def shared_data_dir() -> str:
    env = os.environ.get('EASYMAE_SHARED_DATA')
    return env or osp.join(osp.dirname(REPO), 'shared', 'data')


def file_sets(root: str) -> dict:
    photos = sorted(glob.glob(osp.join(root, 'photos', '**', '*.jpg'),
                              recursive=True))
    pngs = sorted(glob.glob(osp.join(root, 'photos', '**', '*.png'),
                            recursive=True))
    cifar = sorted(glob.glob(osp.join(root, 'cifar10', 'sample', '*', '*',
                                      '*.jpg')))
    sets = {}
    if photos:
        sets['photos_jpg'] = (photos, 224)
    if pngs:
        sets['photos_png'] = (pngs, 224)
    if cifar:
        sets['cifar10_jpg'] = (cifar, 32)
    return sets


def ours(size: int, lazy: bool):
    pipeline = build_pipeline([
        dict(type='LoadImage', backend='cv2', lazy=lazy),
        dict(type='RandomResizedCrop', size=size, scale=MAE_SCALE,
             interpolation='bicubic'),
        dict(type='RandomHorizontalFlip', prob=0.5),
        dict(type='PackInputs'),
    ])

    def run(path):
        results = dict(img_path=path)
        for t in pipeline:
            results = t(results)
        return results['inputs']
    return run


def torchvision_default(size: int):
    from PIL import Image
    from torchvision import transforms as T
    tf = T.Compose([
        T.RandomResizedCrop(size, scale=MAE_SCALE,
                            interpolation=T.InterpolationMode.BICUBIC),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])

    def run(path):
        with open(path, 'rb') as f:  # as torchvision's ImageFolder loader
            img = Image.open(f).convert('RGB')
        return tf(img)
    return run


def time_pass(fn, files, min_s: float):
    """Images/s over whole passes of ``files`` lasting at least ``min_s``."""
    n, t0 = 0, time.perf_counter()
    while True:
        for f in files:
            fn(f)
        n += len(files)
        dt = time.perf_counter() - t0
        if dt >= min_s:
            return n / dt


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=None, help='shared data folder')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--min-seconds', type=float, default=0.5,
                   help='least time per timed pass')
    p.add_argument('--json-out', default=None)
    args = p.parse_args(argv)

    # one worker = one thread: what each DataLoader worker gets
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    root = args.data or shared_data_dir()
    sets = file_sets(root)
    if not sets:
        raise SystemExit(f'no image files under {root!r} (photos/, '
                         'cifar10/sample/); set EASYMAE_SHARED_DATA')
    random.seed(0)
    torch.manual_seed(0)

    variants = {}
    for name, (files, size) in sets.items():
        variants[name] = {
            'torchvision_default': torchvision_default(size),
            'easymae': ours(size, lazy=False),
            'easymae_reduced_decode': ours(size, lazy=True),
        }
    rates = {(s, v): [] for s in variants for v in variants[s]}
    for fns in variants.values():  # warm-up: imports, first decodes
        for fn in fns.values():
            time_pass(fn, sets[next(iter(sets))][0][:4], 0)
    for r in range(args.repeats):
        for s, fns in variants.items():
            for v, fn in fns.items():
                rates[(s, v)].append(time_pass(fn, sets[s][0],
                                               args.min_seconds))
        print(f'round {r + 1}/{args.repeats} done', flush=True)

    results = []
    print(f"\n{'files':14s} {'pipeline':24s} {'img/s/worker':>13s} "
          f"{'vs torchvision':>15s}")
    for s in variants:
        base = statistics.median(rates[(s, 'torchvision_default')])
        for v in variants[s]:
            med = statistics.median(rates[(s, v)])
            results.append(dict(files=s, n_files=len(sets[s][0]),
                                out_size=sets[s][1], pipeline=v,
                                img_per_s=med, vs_torchvision=med / base,
                                all=[round(x, 1) for x in rates[(s, v)]]))
            print(f'{s:14s} {v:24s} {med:13.1f} {med / base:14.2f}x')
    best = {r['files']: r for r in results if r['pipeline'] == 'easymae'}
    first = next(iter(best.values()))
    out = dict(img_per_s=first['img_per_s'], results=results,
               threads=1, torch=torch.__version__, cv2=cv2.__version__,
               command='python benchmarks/data_pipeline.py ' +
               ' '.join(sys.argv[1:] if argv is None else argv))
    emit(out, args.json_out)
    return out


if __name__ == '__main__':
    main()
