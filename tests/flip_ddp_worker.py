"""Run by test_flip_ddp.py, alone or under torchrun: one FLIP loss step on
a fixed global batch; rank 0 saves the loss and every gradient."""
import os
import sys

import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import easymae  # noqa: E402,F401
from easymae.registry import MODELS  # noqa: E402
from flip_utils import tiny_flip_cfg  # noqa: E402
from test_flip_model import _batch  # noqa: E402

GLOBAL_BATCH = 8


def main(out_path: str, local_only: bool = False):
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if world > 1:
        dist.init_process_group('gloo')
    torch.manual_seed(0)  # identical initial weights on every rank
    model = MODELS.build(tiny_flip_cfg(mask_ratio=0.0))
    batch = _batch(n=GLOBAL_BATCH, seed=3)
    n = GLOBAL_BATCH // world if not local_only else GLOBAL_BATCH // 2
    sl = slice(rank * n, (rank + 1) * n)
    local = dict(inputs=batch['inputs'][sl],
                 data_samples=dict(text=batch['data_samples']['text'][sl]))
    data = model.data_preprocessor(local, True)
    net = model
    if world > 1:
        from mmengine.model import MMDistributedDataParallel
        net = MMDistributedDataParallel(module=model, device_ids=None)
    loss = net(**data, mode='loss')['loss']
    loss.backward()
    if rank == 0:
        torch.save(dict(loss=loss.detach(), world=world,
                        grads={k: p.grad.clone() for k, p in
                               model.named_parameters() if p.grad is not None}),
                   out_path)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1], local_only=len(sys.argv) > 2)
