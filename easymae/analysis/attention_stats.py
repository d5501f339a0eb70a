"""Per-layer, per-head attention distance and entropy (MAE-Lite's analysis).

Distance: for each query patch, the attention-weighted mean distance (in
pixels) to the key patches — how far a head looks. Entropy: of each query's
attention distribution, in nats — how spread its attention is. Both are
averaged over query patches and images (the cls token is left out as query
and key, so distances are between patches only).
"""
import torch

from easymae.models.utils import encode_with_attention


def patch_distances(grid: int, patch_size: int) -> torch.Tensor:
    """(L, L) Euclidean distances between patch centres, in pixels."""
    coords = torch.stack(torch.meshgrid(torch.arange(grid),
                                        torch.arange(grid), indexing='ij'),
                         dim=-1).reshape(-1, 2).float()
    return torch.cdist(coords, coords) * patch_size


@torch.no_grad()
def attention_distance_and_entropy(backbone, x: torch.Tensor):
    """x: normalised images (N, 3, H, W). Returns two (depth, heads)
    tensors: mean attention distance (pixels) and mean entropy (nats)."""
    tokens = backbone.prepend_cls(backbone.embed(x))
    depth = len(backbone.blocks)
    _, maps = encode_with_attention(backbone, tokens, range(depth))
    dist = patch_distances(backbone.grid_size, backbone.patch_size).to(x)
    distances, entropies = [], []
    for i in range(depth):
        attn = maps[i][:, :, 1:, 1:]  # patches only
        attn = attn / attn.sum(-1, keepdim=True).clamp(min=1e-12)
        distances.append((attn * dist).sum(-1).mean(dim=(0, 2)))
        ent = -(attn * attn.clamp(min=1e-12).log()).sum(-1)
        entropies.append(ent.mean(dim=(0, 2)))
    return torch.stack(distances), torch.stack(entropies)
