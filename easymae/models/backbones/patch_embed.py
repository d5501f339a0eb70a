"""Patch embedding as a convolution or as one GEMM, same weights.

With stride == kernel (every ViT here) the patch embedding convolution is
a reshape of non-overlapping patches followed by one matrix product. The
weights stay in the convolution's layout (``proj.weight`` is (D, C, p, p),
``proj.bias`` is (D,)), so state dicts, timm names and every converter are
the same whichever path runs.

``impl``:
    'conv': timm's ``PatchEmbed`` forward (``nn.Conv2d``).
    'gemm': patches (N*L, C*p*p) @ weight.view(D, -1).T + bias, with a
        hand-written backward: the weight gradient is one GEMM, the input
        gradient is computed only when the input needs one.
    'auto': the faster of the two where it was measured
        (docs/performance.md): 'gemm' on the CPU (faster there in fp32 and
        several times faster in bf16), 'conv' on other devices.
"""
import torch
from timm.layers import PatchEmbed as TimmPatchEmbed

PATCH_EMBED_LABEL = 'easymae::patch_embed'
PATCH_EMBED_IMPLS = ('auto', 'conv', 'gemm')


def _patch_gemm_plain(x, weight, bias, p: int):
    """The same product with autograd's own ops: for inference and for
    tracing (TorchScript / ONNX cannot serialise a Python autograd
    Function)."""
    N, C, H, W = x.shape
    gh, gw = H // p, W // p
    D = weight.shape[0]
    patches = x.reshape(N, C, gh, p, gw, p).permute(
        0, 2, 4, 1, 3, 5).reshape(N, gh * gw, C * p * p)
    return torch.nn.functional.linear(patches, weight.reshape(D, C * p * p),
                                      bias)


class _PatchGemm(torch.autograd.Function):
    """(N, C, H, W) -> (N, L, D) by one GEMM over non-overlapping patches;
    all three inputs are in the same dtype."""

    @staticmethod
    def forward(ctx, x, weight, bias, p: int):
        N, C, H, W = x.shape
        gh, gw = H // p, W // p
        D = weight.shape[0]
        patches = x.reshape(N, C, gh, p, gw, p).permute(
            0, 2, 4, 1, 3, 5).reshape(N * gh * gw, C * p * p)
        w2 = weight.reshape(D, C * p * p)
        if bias is None:
            out = torch.mm(patches, w2.t())
        else:
            out = torch.addmm(bias, patches, w2.t())
        ctx.p, ctx.shape = p, (N, C, H, W)
        ctx.has_bias = bias is not None
        ctx.save_for_backward(patches if weight.requires_grad else None,
                              weight if x.requires_grad else None)
        return out.view(N, gh * gw, D)

    @staticmethod
    def backward(ctx, grad):
        patches, weight = ctx.saved_tensors
        N, C, H, W = ctx.shape
        p = ctx.p
        D = grad.shape[-1]
        g2 = grad.reshape(-1, D)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            gx = torch.mm(g2, weight.reshape(D, -1))
            grad_x = gx.view(N, H // p, W // p, C, p, p).permute(
                0, 3, 1, 4, 2, 5).reshape(N, C, H, W)
        if ctx.needs_input_grad[1]:
            grad_w = torch.mm(g2.t(), patches).view(D, C, p, p)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g2.sum(0)
        return grad_x, grad_w, grad_b, None


class PatchEmbed(TimmPatchEmbed):
    """timm's ``PatchEmbed`` (same attributes and parameter names) with a
    choice of kernel; see the module doc for ``impl``."""

    def __init__(self, *args, impl: str = 'auto', **kwargs):
        super().__init__(*args, **kwargs)
        if impl not in PATCH_EMBED_IMPLS:
            raise ValueError(f'PatchEmbed: impl must be one of '
                             f'{PATCH_EMBED_IMPLS}, got {impl!r}')
        k, s = self.proj.kernel_size, self.proj.stride
        if impl == 'gemm' and (k != s or self.proj.padding != (0, 0)):
            raise ValueError("PatchEmbed: impl='gemm' needs stride == "
                             f'kernel and no padding, got kernel {k}, '
                             f'stride {s}')
        self.impl = impl

    def _compute_dtype(self, x):
        dev = x.device.type
        if torch.is_autocast_enabled(dev):
            return torch.get_autocast_dtype(dev)
        return self.proj.weight.dtype

    def resolve_impl(self, x) -> str:
        """The kernel this call takes."""
        if self.impl != 'auto':
            return self.impl
        if self.proj.kernel_size != self.proj.stride or \
                self.proj.padding != (0, 0):
            return 'conv'
        return 'gemm' if x.device.type == 'cpu' else 'conv'

    def _gemm_ready(self, x) -> bool:
        p = self.proj.kernel_size
        return (self.flatten and not getattr(self, 'dynamic_img_pad', False)
                and p[0] == p[1] and x.shape[-2] % p[0] == 0
                and x.shape[-1] % p[1] == 0)

    def forward(self, x):
        with torch.profiler.record_function(PATCH_EMBED_LABEL):
            dtype = self._compute_dtype(x)
            if x.dtype != dtype and x.is_floating_point():
                x = x.to(dtype)  # what autocast does; and bf16 weights
            if self.resolve_impl(x) == 'conv' or not self._gemm_ready(x):
                return super().forward(x)
            if self.strict_img_size:
                self._check_size(x)
            weight, bias = self.proj.weight, self.proj.bias
            if weight.dtype != dtype:
                weight = weight.to(dtype)
            if bias is not None and bias.dtype != dtype:
                bias = bias.to(dtype)
            p = self.proj.kernel_size[0]
            with torch.autocast(x.device.type, enabled=False):
                if torch.jit.is_tracing() or not torch.is_grad_enabled():
                    out = _patch_gemm_plain(x, weight, bias, p)
                else:
                    out = _PatchGemm.apply(x, weight, bias, p)
            return self.norm(out)

    def _check_size(self, x):
        H, W = x.shape[-2:]
        if self.img_size is not None and (H, W) != tuple(self.img_size):
            raise AssertionError(
                f'Input size ({H}*{W}) does not match the model '
                f'({self.img_size[0]}*{self.img_size[1]})')
