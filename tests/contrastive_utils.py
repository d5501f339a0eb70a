"""Tiny MoCo v3 / DINO models and real-image (digits) batches for the
contrastive tests."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.optim import OptimWrapper

from easymae.datasets import PipelineDataset
from easymae.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE = osp.join(REPO, 'configs', '_base_', 'datasets')


def tiny_vit(**kw):
    cfg = dict(type='VisionTransformer', arch='tiny', embed_dim=64, depth=2,
               num_heads=4, img_size=32, patch_size=4)
    cfg.update(kw)
    return cfg


def tiny_mocov3(**kw):
    cfg = dict(type='MoCoV3', backbone=tiny_vit(),
               projector=dict(type='ProjectionMLP', hidden_channels=256,
                              out_channels=64, num_layers=3),
               predictor=dict(type='ProjectionMLP', hidden_channels=256,
                              out_channels=64, num_layers=2))
    cfg.update(kw)
    return MODELS.build(cfg)


def tiny_dino(**kw):
    cfg = dict(type='DINO', backbone=tiny_vit(pos_embed='learned'),
               head=dict(type='DINOHead', out_dim=256, hidden_dim=128,
                         bottleneck_dim=32),
               warmup_teacher_temp_epochs=2)
    cfg.update(kw)
    return MODELS.build(cfg)


def digits_dataset(base_file, split='train'):
    """The digits pipeline of a shipped contrastive dataset config."""
    cfg = Config.fromfile(osp.join(BASE, base_file))
    ds = cfg.train_dataloader.dataset
    return PipelineDataset(dict(ds.data_source, split=split), ds.pipeline)


def batches(dataset, batch_size, steps, seed=0):
    """``steps`` collated batches of distinct random samples."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset), generator=gen).tolist()
    for i in range(steps):
        idx = [order[(i * batch_size + j) % len(order)]
               for j in range(batch_size)]
        yield default_collate([dataset[j] for j in idx])


def adamw(model, lr=1e-3, weight_decay=0.05):
    params = [p for p in model.parameters() if p.requires_grad]
    return OptimWrapper(torch.optim.AdamW(params, lr=lr,
                                          weight_decay=weight_decay))


def set_progress(it, max_iters, epoch=0):
    """What mmengine's RuntimeInfoHook posts before an iteration."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', it)
    hub.update_info('max_iters', max_iters)
    hub.update_info('epoch', epoch)
