"""Loader images/s from tar shards vs from loose files: same images, same
pipeline, ONE DataLoader worker each.

Loose files: ``PipelineDataset(ImageFolder)`` with a shuffling sampler.
Shards: ``ShardDataset`` over shards that ``tools/make_shards.py``'s
writer made from the same folder (shuffle buffer 1000). Pipeline:
LoadImage + RandomResizedCrop(32, MAE's scale) + flip + PackInputs.
Persistent workers, a warm-up epoch per side, then ``--repeats`` rounds
that time ``--epochs`` epochs of each side in turn; median img/s. Each
round also times one pass of each dataset in this process by CPU time
(CPU-us/img), which other processes on a shared machine disturb less.

    python benchmarks/shard_loader.py [--data DIR] [--json-out FILE]

Image sets, each used when present: the CIFAR-10 dev sample JPEGs
(``DIR/cifar10/sample/train``; DIR defaults to the shared data folder
beside the checkout) and, always, scikit-learn's digits written as PNGs
(32 px). Files and shards are written to a temporary folder (local disk).
The last line printed is one JSON object.
"""
import argparse
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import cv2  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, RandomSampler  # noqa: E402

import easymae  # noqa: E402,F401 (registers)
from easymae.datasets import PipelineDataset, ShardDataset  # noqa: E402
from easymae.datasets.sources.shards import write_shards  # noqa: E402
from easymae.registry import DATA_SOURCES  # noqa: E402
from report import emit  # noqa: E402

PIPELINE = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', size=32, scale=(0.2, 1.0)),
    dict(type='RandomHorizontalFlip'),
    dict(type='PackInputs'),
]


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def digits_folder(out: str) -> str:
    """scikit-learn's digits (train split, 32 px) as PNG files, one
    sub-folder per class."""
    source = DATA_SOURCES.build(dict(type='Digits', split='train',
                                     img_size=32))
    for i in range(len(source)):
        sample = source[i]
        folder = osp.join(out, str(sample['gt_label']))
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(osp.join(folder, f'{i:05d}.png'),
                    cv2.cvtColor(sample['img'], cv2.COLOR_RGB2BGR))
    return out


def loaders(root: str, shard_dir: str, batch: int):
    source = DATA_SOURCES.build(dict(type='ImageFolder', root=root))
    write_shards(source, osp.join(shard_dir, 's'), max_count=1000)
    files = PipelineDataset(source, PIPELINE)
    shards = ShardDataset(index_file=osp.join(shard_dir, 's-index.json'),
                          pipeline=PIPELINE, rank=0, world_size=1,
                          shuffle_buffer=1000, batch_size=batch)
    common = dict(batch_size=batch, num_workers=1, persistent_workers=True)
    return len(source), {
        'loose files': DataLoader(files, sampler=RandomSampler(
            files, generator=torch.Generator().manual_seed(0)), **common),
        'shards': DataLoader(shards, **common),
    }


def time_epochs(loader, epochs: int):
    n = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            n += len(batch['inputs'])
    return n / (time.perf_counter() - start)


def cpu_us_per_image(dataset) -> float:
    """CPU time of one pass in this process (no worker): robust to other
    processes sharing the cores, which wall-clock rates are not."""
    start = time.process_time()
    if isinstance(dataset, ShardDataset):
        n = sum(1 for _ in dataset)
    else:
        n = sum(1 for i in range(len(dataset)) if dataset[i] is not None)
    return (time.process_time() - start) / n * 1e6


def bench_set(name: str, root: str, args) -> dict:
    with tempfile.TemporaryDirectory() as shard_dir:
        num, sides = loaders(root, shard_dir, args.batch)
        for loader in sides.values():
            time_epochs(loader, 1)  # worker start-up, page cache
        rates = {k: [] for k in sides}
        cpu = {k: [] for k in sides}
        # the sides take turns, so load from other processes on the
        # machine falls on both alike
        for _ in range(args.repeats):
            for side, loader in sides.items():
                rates[side].append(time_epochs(loader, args.epochs))
                cpu[side].append(cpu_us_per_image(loader.dataset))
        med = {k: statistics.median(v) for k, v in rates.items()}
        cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    ratio = med['shards'] / med['loose files']
    cpu_ratio = cpu_med['loose files'] / cpu_med['shards']
    print(f'{name}: {num} images, {args.epochs} epochs x {args.repeats} '
          f'repeats, batch {args.batch}, 1 worker')
    for side in sides:
        print(f'  {side:12s} {med[side]:8.0f} img/s  '
              f'{cpu_med[side]:6.1f} CPU-us/img in-process  (runs: '
              f'{", ".join(f"{r:.0f}" for r in rates[side])})')
    print(f'  shards / loose files = {ratio:.2f}x img/s, {cpu_ratio:.2f}x '
          'by CPU time (target >= 0.9x)')
    return dict(images=num, img_per_s=med, runs=rates,
                cpu_us_per_img=cpu_med, shards_over_files=round(ratio, 3),
                shards_over_files_cpu=round(cpu_ratio, 3))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=None,
                   help='shared data folder (default: ../shared/data)')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--epochs', type=int, default=3,
                   help='epochs timed per repeat and side')
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--only-digits', action='store_true')
    p.add_argument('--json-out', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    data = args.data or os.environ.get('EASYMAE_SHARED_DATA') or osp.join(
        osp.dirname(REPO), 'shared', 'data')
    print(f'CPU: {cpu_model()}; torch {torch.__version__}')
    results = {}
    cifar = osp.join(data, 'cifar10', 'sample', 'train')
    if osp.isdir(cifar) and not args.only_digits:
        results['cifar10_sample_jpg'] = bench_set('CIFAR-10 sample JPEGs',
                                                  cifar, args)
    with tempfile.TemporaryDirectory() as tmp:
        results['digits_png'] = bench_set('digits PNGs',
                                          digits_folder(tmp), args)
    command = 'python benchmarks/shard_loader.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    return emit(dict(benchmark='shard_loader', cpu=cpu_model(),
                     torch=torch.__version__, batch=args.batch,
                     epochs=args.epochs, repeats=args.repeats,
                     num_workers=1, results=results,
                     command=command.strip()), args.json_out)


if __name__ == '__main__':
    main()
