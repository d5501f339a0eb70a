from .reconstruction import denormalize_patches, make_grid, reconstruct

__all__ = ['denormalize_patches', 'make_grid', 'reconstruct']
