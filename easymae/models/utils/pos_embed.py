"""Fixed 2-D sin-cos position embeddings and their resizing."""
import torch
import torch.nn.functional as F


def sincos_1d(embed_dim: int, pos: torch.Tensor) -> torch.Tensor:
    """(M,) positions -> (M, embed_dim): half sines, half cosines."""
    assert embed_dim % 2 == 0
    omega = torch.arange(embed_dim // 2, dtype=torch.float64) / (embed_dim / 2)
    omega = 1.0 / 10000 ** omega
    out = pos.reshape(-1).double()[:, None] * omega[None, :]
    return torch.cat([torch.sin(out), torch.cos(out)], dim=1)


def get_2d_sincos_pos_embed(embed_dim: int, grid_size: int,
                            cls_token: bool = False) -> torch.Tensor:
    """(grid_size**2 [+1], embed_dim) table, laid out as the reference MAE's.

    The first half of the channels encodes the column (w) coordinate and the
    second half the row (h), exactly as MAE's numpy version, so checkpoints
    of the official release carry identical tables.
    """
    if embed_dim % 4 != 0:
        raise ValueError(f'sin-cos position embedding needs embed_dim '
                         f'divisible by 4, got {embed_dim}')
    coords = torch.arange(grid_size, dtype=torch.float64)
    grid_w, grid_h = torch.meshgrid(coords, coords, indexing='xy')
    emb = torch.cat([sincos_1d(embed_dim // 2, grid_w),
                     sincos_1d(embed_dim // 2, grid_h)], dim=1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, embed_dim, dtype=emb.dtype), emb])
    return emb.float()


def resize_pos_embed(pos_embed: torch.Tensor, new_grid: int,
                     num_extra_tokens: int = 1) -> torch.Tensor:
    """Bicubic-resize a (1, extra + g*g, D) table to a new_grid x new_grid one.

    Extra (cls) tokens are kept as they are, as in MAE's
    ``interpolate_pos_embed``.
    """
    extra = pos_embed[:, :num_extra_tokens]
    grid = pos_embed[:, num_extra_tokens:]
    old = int(round(grid.shape[1] ** 0.5))
    if old * old != grid.shape[1]:
        raise ValueError(f'position embedding with {grid.shape[1]} patch '
                         'tokens is not a square grid')
    if old == new_grid:
        return pos_embed
    dim = grid.shape[-1]
    grid = grid.reshape(1, old, old, dim).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode='bicubic',
                         align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_grid * new_grid, dim)
    return torch.cat([extra, grid.to(pos_embed.dtype)], dim=1)
