from .masking import patchify, random_masking, unpatchify
from .pos_embed import get_2d_sincos_pos_embed, resize_pos_embed

__all__ = ['patchify', 'random_masking', 'unpatchify',
           'get_2d_sincos_pos_embed', 'resize_pos_embed']
from .attention import block_forward_with_attention, encode_with_attention  # noqa: E402,F401
