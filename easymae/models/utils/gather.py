"""All-gather across processes that keeps the gradient path to each rank.

Contrastive losses want every rank's features as negatives. A plain
``dist.all_gather`` cuts the graph; here the backward sums the gradient of
the gathered tensor over ranks (all-reduce, which every backend including
gloo has) and hands each rank the slice of its own features.

Each rank's loss thus sends this rank's features the gradient of the *sum*
of all ranks' losses. When the global-batch loss is the mean of the ranks'
losses (FLIP's local loss: each rank scores its own rows against the
gathered columns; or every rank computing the same global loss), that sum
is world_size x the global loss, and DDP's gradient averaging divides by
world_size again: parameters get exactly the single-process gradient of
the global-batch loss. (This is ``torch.distributed.nn.all_gather``'s
backward, a reduce-scatter, written with all-reduce for gloo.)
"""
import torch
import torch.distributed as dist


class _GatherWithGrad(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        world = dist.get_world_size()
        ctx.rank, ctx.local_n = dist.get_rank(), x.shape[0]
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x)
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = ctx.rank * ctx.local_n
        return grad[start:start + ctx.local_n]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """(n, ...) on each rank -> (world_size * n, ...) in rank order, every
    rank's batch the same size (use drop_last or mmengine's DefaultSampler).
    Without a process group it returns ``x`` unchanged."""
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return x
    return _GatherWithGrad.apply(x)


@torch.no_grad()
def concat_all_gather(x: torch.Tensor) -> torch.Tensor:
    """(n, ...) on each rank -> (world_size * n, ...) in rank order, with no
    gradient (MoCo's keys: negatives only, never trained through).
    Without a process group it returns ``x`` detached."""
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return x.detach()
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)
