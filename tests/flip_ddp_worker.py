"""Run by test_flip_ddp.py, alone or under torchrun: one FLIP loss step on
a fixed global batch; rank 0 saves the mean of the ranks' losses, its own
loss, the shapes of its logit matrices, every gradient, and the gradients
of the full (N x N) logit matrix loss computed on every rank (the
reference the local loss must reproduce)."""
import copy
import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# the repository, the shared test helpers, and the FLIP model tests
sys.path[:0] = [os.path.dirname(HERE), HERE, os.path.join(HERE, 'models')]

from flip_utils import tiny_flip_cfg  # noqa: E402
from test_flip_model import _batch  # noqa: E402

import easymae  # noqa: E402,F401
import easymae.models.algorithms.flip as flip_module  # noqa: E402
from easymae.models.utils.gather import gather_with_grad  # noqa: E402
from easymae.registry import MODELS  # noqa: E402

GLOBAL_BATCH = 8


def record_logit_shapes(shapes):
    """Wrap the model's logit function to note (rows, columns) per call."""
    inner = flip_module.clip_logits

    def recording(*args, **kwargs):
        logits = inner(*args, **kwargs)
        shapes.extend(tuple(t.shape) for t in logits)
        return logits

    flip_module.clip_logits = recording


def full_matrix_grads(model, data, world):
    """The loss before local_loss: every rank builds the global (N, N)
    logits; gradients averaged over ranks as DDP does."""
    inputs, text = data['inputs'], data['data_samples']['text']
    img = gather_with_grad(model.extract_image_feat(inputs).float())
    txt = gather_with_grad(model.extract_text_feat(text).float())
    logits = model.logit_scale.exp() * img @ txt.t()
    labels = torch.arange(len(logits))
    loss = (F.cross_entropy(logits, labels) +
            F.cross_entropy(logits.t(), labels)) / 2
    loss.backward()
    grads = {}
    for k, p in model.named_parameters():
        if p.grad is None:
            continue
        g = p.grad.clone()
        if world > 1:
            dist.all_reduce(g)
            g /= world
        grads[k] = g
    return grads


def main(out_path: str, local_only: bool = False):
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if world > 1:
        dist.init_process_group('gloo')
    torch.manual_seed(0)  # identical initial weights on every rank
    model = MODELS.build(tiny_flip_cfg(mask_ratio=0.0))
    reference = copy.deepcopy(model)
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
    shapes = []
    record_logit_shapes(shapes)
    loss = net(**data, mode='loss')['loss']
    loss.backward()
    mean_loss = loss.detach().clone()
    if world > 1:
        dist.all_reduce(mean_loss)
        mean_loss /= world
    full_grads = full_matrix_grads(reference, data, world)
    if rank == 0:
        torch.save(dict(loss=mean_loss, rank_loss=loss.detach(), world=world,
                        logit_shapes=shapes, full_grads=full_grads,
                        grads={k: p.grad.clone()
                               for k, p in model.named_parameters()
                               if p.grad is not None}),
                   out_path)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1], local_only=len(sys.argv) > 2)
