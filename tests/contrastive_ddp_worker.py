"""Run by test_mocov3.py / test_dino.py, alone or under torchrun (gloo,
CPU). Rank 0 saves what the test compares with the one-process run.

``infonce``: MoCo v3's InfoNCE on a fixed global batch of features, each
rank holding half of the queries and keys; the mean of the ranks' losses
and the query gradients (DDP-averaged) must equal one process on the
whole batch, because the keys are gathered from every rank.

``dino``: a tiny DINO in MMDistributedDataParallel on a multi-crop batch
of mixed sizes (list of views through the data preprocessor): the centre,
all-reduced, must equal one process's centre on the whole batch, and the
gradients DDP leaves must be the same on every rank.
"""
import os
import sys

import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import easymae  # noqa: E402,F401
from easymae.models.algorithms.mocov3 import contrastive_loss  # noqa: E402
from easymae.registry import MODELS  # noqa: E402

GLOBAL_BATCH = 8


def infonce(world, rank):
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(GLOBAL_BATCH, 6, generator=gen)
    k = torch.randn(GLOBAL_BATCH, 6, generator=gen)
    n = GLOBAL_BATCH // world
    sl = slice(rank * n, (rank + 1) * n)
    q_local = q[sl].clone().requires_grad_(True)
    loss = contrastive_loss(q_local, k[sl], temperature=0.2)
    loss.backward()
    mean_loss, grad = loss.detach().clone(), q_local.grad / world
    parts = [torch.empty_like(grad) for _ in range(world)]
    if world > 1:
        dist.all_reduce(mean_loss)
        mean_loss /= world
        dist.all_gather(parts, grad)
    else:
        parts = [grad]
    return dict(loss=mean_loss, rank_loss=loss.detach(),
                q_grad=torch.cat(parts))


def tiny_dino():
    vit = dict(type='VisionTransformer', arch='tiny', embed_dim=32,
               depth=1, num_heads=2, img_size=16, patch_size=4,
               pos_embed='learned')
    head = dict(type='DINOHead', out_dim=16, hidden_dim=16,
                bottleneck_dim=8)
    return MODELS.build(dict(type='DINO', backbone=vit, head=head))


def dino(world, rank):
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance('ddp-worker', scope_name='easymae')
    torch.manual_seed(0)
    model = tiny_dino()
    gen = torch.Generator().manual_seed(2)
    views = [torch.randint(0, 256, (GLOBAL_BATCH, 3, s, s), generator=gen,
                           dtype=torch.uint8) for s in (16, 16, 8, 8)]
    n = GLOBAL_BATCH // world
    local = [v[rank * n:(rank + 1) * n] for v in views]
    net = model
    if world > 1:
        from mmengine.model import MMDistributedDataParallel
        net = MMDistributedDataParallel(module=model, device_ids=None)
    data = model.data_preprocessor(dict(inputs=local), True)
    out = net(**data, mode='loss')
    out['loss'].backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters()
                       if p.grad is not None])
    same = torch.ones(1)
    if world > 1:
        others = [torch.empty_like(grads) for _ in range(world)]
        dist.all_gather(others, grads)
        same = torch.tensor([float(all(torch.allclose(o, grads)
                                       for o in others))])
    return dict(center=model.center.clone(), grads_equal=same,
                finite=torch.tensor([float(torch.isfinite(out['loss']))]))


def main(mode, out_path):
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if world > 1:
        dist.init_process_group('gloo')
    result = dict(infonce=infonce, dino=dino)[mode](world, rank)
    result['world'] = world
    if rank == 0:
        torch.save(result, out_path)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
