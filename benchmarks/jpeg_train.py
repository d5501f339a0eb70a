"""MAE training images/s fed from real JPEG files vs from memory.

Three feeds for the same model, optim wrapper and batch, timed in one run:

- ``memory``: one uint8 batch already in pinned host memory (the ceiling);
- ``workers``: a DataLoader of N workers running our pipeline
  (LoadImage(lazy=True) + RandomResizedCrop + flip + PackInputs, uint8),
  pinned, persistent, prefetching;
- ``gpu-decode`` (CUDA only): workers only read the file bytes and draw the
  crop from the JPEG header; a background thread decodes the batch on the
  GPU with ``torchvision.io.decode_jpeg(device='cuda')``, crops, resizes and
  flips there on a side stream, so decoding overlaps the training step.

    python benchmarks/jpeg_train.py --data DIR --device cuda --batch 256 \
        --arch vit-base --amp bf16 --workers 12

Files are every *.jpg under --data, cycled. The last line is one JSON object.
"""
import argparse
import glob
import os.path as osp
import queue
import random
import statistics
import sys
import threading
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from easymae.datasets.dataset import build_pipeline  # noqa: E402
from easymae.datasets.transforms.loading import jpeg_size  # noqa: E402
from easymae.datasets.transforms.processing import RandomResizedCrop  # noqa: E402
import train_step  # noqa: E402
from report import emit  # noqa: E402


class Cycled(Dataset):
    def __init__(self, files, length):
        self.files, self.length = files, length

    def __len__(self):
        return self.length

    def path(self, i):
        return self.files[i % len(self.files)]


class PipelineFiles(Cycled):
    """Our CPU pipeline per sample."""

    def __init__(self, files, length, size):
        super().__init__(files, length)
        self.pipeline = build_pipeline([
            dict(type='LoadImage', backend='cv2', lazy=True),
            dict(type='RandomResizedCrop', size=size, scale=(0.2, 1.0),
                 interpolation='bicubic'),
            dict(type='RandomHorizontalFlip', prob=0.5),
            dict(type='PackInputs', meta_keys=()),
        ])

    def __getitem__(self, i):
        results = dict(img_path=self.path(i))
        for t in self.pipeline:
            results = t(results)
        return results['inputs']


class BytesAndBox(Cycled):
    """File bytes + a RandomResizedCrop box + flip bit; decoding is left to
    the GPU."""

    def __init__(self, files, length, size):
        super().__init__(files, length)
        self.rrc = RandomResizedCrop(size, scale=(0.2, 1.0))

    def __getitem__(self, i):
        with open(self.path(i), 'rb') as f:
            data = f.read()
        h, w = jpeg_size(data)
        box = self.rrc.get_params(h, w)
        return (torch.frombuffer(bytearray(data), dtype=torch.uint8),
                torch.tensor(box + (random.random() < 0.5,)))


def collate_bytes(items):
    return [b for b, _ in items], torch.stack([box for _, box in items])


def gpu_decode_feed(loader, size, device, depth=3):
    """Yield uint8 (B, 3, size, size) CUDA batches decoded by a background
    thread on its own stream, ``depth`` batches ahead."""
    from torchvision.io import ImageReadMode, decode_jpeg
    q = queue.Queue(maxsize=depth)
    stream = torch.cuda.Stream(device)

    def produce():
        try:
            with torch.cuda.stream(stream):
                decode_batches()
        except BaseException as e:  # surface it in the training thread
            q.put(e)
        q.put(None)

    def decode_batches():
        for datas, boxes in loader:
            imgs = decode_jpeg(datas, mode=ImageReadMode.RGB,
                               device=device)
            out = torch.empty(len(imgs), 3, size, size,
                              dtype=torch.uint8, device=device)
            for k, (img, box) in enumerate(zip(imgs, boxes.tolist())):
                top, left, ch, cw, flip = box
                crop = img[None, :, top:top + ch, left:left + cw].float()
                crop = F.interpolate(crop, size=(size, size),
                                     mode='bicubic', antialias=True,
                                     align_corners=False)
                if flip:
                    crop = crop.flip(-1)
                out[k] = crop[0].round_().clamp_(0, 255)
            event = torch.cuda.Event()
            event.record(stream)
            q.put((out, event))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    while True:
        item = q.get()
        if item is None:
            thread.join()
            return
        if isinstance(item, BaseException):
            raise RuntimeError('GPU decode thread failed') from item
        out, event = item
        torch.cuda.current_stream(device).wait_event(event)
        out.record_stream(torch.cuda.current_stream(device))
        yield out


def run_feed(bench, feed, steps, warmup):
    device = torch.device(bench.args.device)
    it = iter(feed)
    for _ in range(warmup):
        bench.model.train_step(dict(inputs=next(it), data_samples={}),
                               bench.optim_wrapper)
    train_step._sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        bench.model.train_step(dict(inputs=next(it), data_samples={}),
                               bench.optim_wrapper)
    train_step._sync(device)
    return bench.args.batch * steps / (time.perf_counter() - t0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--arch', default='vit-base')
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--amp', default=None, choices=['bf16', 'fp16'])
    p.add_argument('--workers', type=int, default=8)
    p.add_argument('--prefetch', type=int, default=4)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='passed on to train_step.py (key=value)')
    p.add_argument('--feeds', default='memory,workers,gpu-decode')
    p.add_argument('--json-out', default=None)
    args = p.parse_args(argv)
    files = sorted(glob.glob(osp.join(args.data, '**', '*.jpg'),
                             recursive=True))
    if not files:
        raise SystemExit(f'no *.jpg files under {args.data!r}')
    from mmengine.registry import init_default_scope
    init_default_scope('easymae')
    targv = ['--model', 'mae', '--arch', args.arch, '--img-size',
             str(args.img_size), '--batch', str(args.batch),
             '--device', args.device, '--warmup', '1']
    if args.amp:
        targv += ['--amp', args.amp]
    if args.cfg_options:
        targv += ['--cfg-options'] + args.cfg_options
    targs = train_step.variant_args(train_step.build_parser(), targv, '')
    bench = train_step.Bench(targs, 'mae')
    bench.warmup()
    n = args.batch * (args.steps + args.warmup) * args.repeats * 2
    feeds = args.feeds.split(',')
    if args.device != 'cuda' and 'gpu-decode' in feeds:
        feeds.remove('gpu-decode')

    def make(feed):
        if feed == 'memory':
            batch = bench.batch['inputs']
            return iter(lambda: batch, None)
        if feed == 'workers':
            return iter(DataLoader(
                PipelineFiles(files, n, args.img_size),
                batch_size=args.batch, num_workers=args.workers,
                pin_memory=args.device == 'cuda', shuffle=True,
                persistent_workers=args.workers > 0, drop_last=True,
                prefetch_factor=args.prefetch if args.workers else None))
        loader = DataLoader(
            BytesAndBox(files, n, args.img_size), batch_size=args.batch,
            num_workers=args.workers, shuffle=True, drop_last=True,
            collate_fn=collate_bytes, persistent_workers=args.workers > 0,
            prefetch_factor=args.prefetch if args.workers else None)
        return gpu_decode_feed(loader, args.img_size,
                               torch.device(args.device))

    iters = {f: make(f) for f in feeds}
    rates = {f: [] for f in feeds}
    for r in range(args.repeats):
        for f in feeds:
            rates[f].append(run_feed(bench, iters[f], args.steps,
                                     args.warmup if r == 0 else 1))
        print(f'round {r + 1}: ' + ', '.join(
            f'{f} {rates[f][-1]:.1f} img/s' for f in feeds), flush=True)
    med = {f: statistics.median(v) for f, v in rates.items()}
    for f in feeds:
        print(f"{f:12s} {med[f]:9.1f} img/s  "
              f"{100 * med[f] / med['memory']:5.1f}% of in-memory"
              if 'memory' in med else f'{f:12s} {med[f]:9.1f} img/s')
    out = dict(img_per_s=med.get('memory'), feeds=med,
               all={f: [round(x, 1) for x in v] for f, v in rates.items()},
               n_files=len(files), batch=args.batch, arch=args.arch,
               amp=args.amp, workers=args.workers, device=args.device,
               gpu=(torch.cuda.get_device_name()
                    if args.device == 'cuda' else None))
    emit(out, args.json_out)
    return out


if __name__ == '__main__':
    main()
