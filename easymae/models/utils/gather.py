"""All-gather across processes that keeps the gradient path to each rank.

Contrastive losses want every rank's features as negatives. A plain
``dist.all_gather`` cuts the graph; here the backward sums the gradient of
the gathered tensor over ranks (all-reduce, which every backend including
gloo has) and hands each rank the slice of its own features.

With every rank computing the same global loss, that sum is world_size x
the true gradient of the local slice; DDP's gradient averaging divides by
world_size again, so parameters get exactly the single-process gradient of
the global-batch loss.
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
