"""Stochastic depth: the drop-path rate of each block."""
import torch


def drop_path_rates(drop_path_rate: float, depth: int) -> list:
    """Rates rising linearly from 0 to ``drop_path_rate`` over ``depth``
    blocks (timm's and MAE's rule). Computed on the CPU even under
    ``with torch.device('meta')``: they are read back as floats (the config
    check builds models on meta)."""
    return torch.linspace(0, drop_path_rate, depth, device='cpu').tolist()
