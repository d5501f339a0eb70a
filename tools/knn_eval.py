#!/usr/bin/env python
"""kNN top-1 / top-5 of a pretrained ViT encoder on frozen features.

    python tools/knn_eval.py CONFIG CHECKPOINT [--prefix P] [--k 20]
                             [--temperature 0.07] [--max-bank-gb 4]
                             [--cfg-options k=v ...]

DINO's weighted kNN (easymae/evaluation/knn.py). The config's
``model.backbone`` is built, the checkpoint converted into it strictly
(the encoder's expected-missing rule; projectors, predictors and EMA copies
dropped), and its pooled output, L2-normalised, is the feature.
``--prefix`` picks the encoder inside the checkpoint, e.g.
``momentum_encoder.backbone.`` (MoCo v3) or ``teacher.backbone.`` (DINO);
the config's ``knn_eval.prefix`` is the default. The images come from
``knn_eval.train_dataloader`` (the bank) and ``knn_eval.val_dataloader``
(scored), whose pipelines end in PackInputs with ``gt_label``. A bad
checkpoint, or a bank over the memory limit, is one ``error: ...`` line
and exit status 1.
"""
import argparse
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from easymae.apis import DictAction, load_config, run_tool
from easymae.evaluation.knn import (
    KNNBankTooLarge,
    check_bank_size,
    knn_accuracy,
)
from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.hub.pretrained import load_pretrained_backbone
from easymae.registry import MODELS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--prefix', help='encoder sub-tree of the checkpoint'
                        " (e.g. 'teacher.backbone.')")
    parser.add_argument('--k', type=int, default=None, help='neighbours (20)')
    parser.add_argument('--temperature', type=float, default=None,
                        help='vote temperature (0.07)')
    parser.add_argument('--max-bank-gb', type=float, default=None,
                        help='refuse a feature bank above this (4 GiB)')
    parser.add_argument('--device', default=None,
                        help="'cuda' when available, else 'cpu'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


@torch.no_grad()
def extract(vit, loader, mean, std, device):
    feats, labels = [], []
    for batch in loader:
        x = batch['inputs']
        if isinstance(x, list):
            raise ValueError('knn_eval: the kNN pipelines must give one view '
                             'per image (no MultiView)')
        x = (x.to(device).float() - mean) / std
        feats.append(torch.nn.functional.normalize(vit(x).float(), dim=1))
        labels.append(torch.as_tensor(batch['data_samples']['gt_label']))
    return torch.cat(feats).cpu(), torch.cat(labels).view(-1)


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint!r}')
    cfg = load_config(args.config, args.cfg_options)
    knn = cfg.get('knn_eval')
    if not knn or 'train_dataloader' not in knn or \
            'val_dataloader' not in knn:
        raise ValueError(f'{args.config} has no knn_eval.train_dataloader / '
                         'knn_eval.val_dataloader to evaluate with')
    k = args.k or knn.get('k', 20)
    temperature = args.temperature or knn.get('temperature', 0.07)
    limit_gb = args.max_bank_gb or knn.get('max_bank_gb', 4.0)
    prefix = args.prefix if args.prefix is not None else knn.get('prefix')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if not DefaultScope.check_instance_created('knn_eval'):
        DefaultScope.get_instance('knn_eval', scope_name='easymae')

    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg.pop('init_cfg', None)
    backbone_cfg['drop_path_rate'] = 0.0
    vit = MODELS.build(backbone_cfg)
    load_pretrained_backbone(vit, args.checkpoint, prefix=prefix or None)
    vit.to(device).eval()

    train_loader = Runner.build_dataloader(knn.train_dataloader, seed=0)
    val_loader = Runner.build_dataloader(knn.val_dataloader, seed=0)
    # refuse before extracting: the size is known from the dataset
    check_bank_size(len(train_loader.dataset), vit.embed_dim,
                    limit_gb * 2 ** 30)
    pre = cfg.model.get('data_preprocessor') or {}
    mean = torch.tensor(pre.get('mean', IMAGENET_MEAN),
                        device=device).view(1, -1, 1, 1)
    std = torch.tensor(pre.get('std', IMAGENET_STD),
                       device=device).view(1, -1, 1, 1)
    train_x, train_y = extract(vit, train_loader, mean, std, device)
    val_x, val_y = extract(vit, val_loader, mean, std, device)
    num_classes = len(train_loader.dataset.metainfo.get('classes') or ()) \
        or None
    result = knn_accuracy(train_x, train_y, val_x, val_y, num_classes, k,
                          temperature, max_bank_bytes=limit_gb * 2 ** 30)
    line = ', '.join(f'{key}: {v:.2f}' for key, v in result.items())
    print(f'kNN (k={k}, T={temperature}) of '
          f'{os.path.basename(args.checkpoint)}'
          f'{" [" + prefix + "]" if prefix else ""}: {line}')
    print(json.dumps(result))
    return result


def _main(argv=None) -> int:
    try:
        return run_tool(main, argv)
    except KNNBankTooLarge as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(_main())
