"""Write webdataset-style tar shards (+ an index) from one of our sources.

  # an ImageNet-style folder (root/<class>/<image>): jpg/png + cls + json
  python tools/make_shards.py --image-folder data/imagenet/train \\
      --out data/shards/in1k-train --max-count 1000
  # an ImageList (root + list file of "path [label]")
  python tools/make_shards.py --image-list data/imgs data/imgs/train.txt \\
      --out data/shards/mylist
  # image-text pairs: jsonl / tsv / csv, or COCO captions json
  python tools/make_shards.py --captions captions_train2017.json \\
      --data-root ../shared/data/coco_captions_mini --img-prefix train2017 \\
      --out data/shards/coco-mini --max-count 20
  # the embedded digits (arrays, written as lossless PNGs)
  python tools/make_shards.py --digits --out data/shards/digits

Writes ``OUT-000000.tar``, ``OUT-000001.tar``, ... and ``OUT-index.json``
(shard names and sample counts). Images keep their original bytes.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from easymae.datasets.sources.shards import write_shards  # noqa: E402
from easymae.registry import DATA_SOURCES  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--image-folder', metavar='ROOT')
    src.add_argument('--image-list', nargs=2, metavar=('ROOT', 'LIST_FILE'))
    src.add_argument('--captions', metavar='ANN_FILE',
                     help='jsonl / tsv / csv / COCO-captions json')
    src.add_argument('--digits', action='store_true',
                     help='scikit-learn digits (train split, 32 px)')
    p.add_argument('--data-root', default='',
                   help='--captions: folder image paths are relative to')
    p.add_argument('--img-prefix', default='',
                   help='--captions: sub-folder of --data-root (COCO)')
    p.add_argument('--img-key', default='image')
    p.add_argument('--caption-key', default='captions')
    p.add_argument('--out', required=True,
                   help='output prefix, e.g. data/shards/train')
    p.add_argument('--max-count', type=int, default=1000,
                   help='samples per shard (default 1000)')
    p.add_argument('--max-size', type=float, default=1e9,
                   help='bytes per shard before starting a new one')
    p.add_argument('--no-shuffle', action='store_true',
                   help='keep the source order (default: shuffled with '
                   '--seed, so classes mix across shards)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def build_source(args):
    if args.image_folder:
        cfg = dict(type='ImageFolder', root=args.image_folder)
        root = args.image_folder
    elif args.image_list:
        cfg = dict(type='ImageList', root=args.image_list[0],
                   list_file=args.image_list[1])
        root = args.image_list[0]
    elif args.captions:
        cfg = dict(type='ImageText', ann_file=args.captions,
                   data_root=args.data_root, img_prefix=args.img_prefix,
                   img_key=args.img_key, caption_key=args.caption_key)
        root = args.data_root or None
    else:
        cfg = dict(type='Digits', split='train', img_size=32)
        root = None
    return DATA_SOURCES.build(cfg), root


def main(argv=None):
    args = parse_args(argv)
    import easymae  # noqa: F401 (registers the sources)
    source, root = build_source(args)
    index = write_shards(source, args.out, max_count=args.max_count,
                         max_size=args.max_size,
                         shuffle=not args.no_shuffle, seed=args.seed,
                         root=osp.abspath(root) if root else None)
    print(f'{index["num_samples"]} samples in {len(index["shards"])} '
          f'shard(s) {args.out}-000000.tar ...; index {args.out}-index.json')
    return index


if __name__ == '__main__':
    main()
