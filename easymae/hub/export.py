"""Export a classifier or its bare encoder to ONNX or TorchScript.

The exported graph takes *normalised* float32 images (N, 3, H, W) with a
dynamic batch axis and returns logits (``part='classifier'``) or pooled
features (``part='encoder'``). How to normalise (mean / std on the 0..255
scale, channel order, input size) is written beside the file as JSON
(:func:`input_spec`), because an ONNX runtime knows nothing of the data
preprocessor that does it inside easymae.

ONNX goes through torch's TorchScript-based exporter (``dynamo=False``):
it needs nothing beyond torch, where the ``torch.export`` one needs the
``onnxscript`` package (see docs/design_decisions.md, "Export"). ViT
attention is switched to its plain matmul-softmax-matmul path for the ONNX
export, which every opset has; TorchScript keeps the fused SDPA kernel.
"""
import contextlib
import os
import re
import warnings
from typing import List, Optional

import numpy as np
import torch
import torch.nn as nn

from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD

FORMATS = ('onnx', 'torchscript')
PARTS = ('classifier', 'encoder')
DEFAULT_OPSET = 17


class ExportError(RuntimeError):
    """The model cannot be exported to the asked format or part."""


class ExportVerificationError(ExportError):
    """The exported model's outputs differ from the PyTorch model's."""


def backbone_of(model: nn.Module) -> nn.Module:
    return model.backbone if isinstance(
        getattr(model, 'backbone', None), nn.Module) else model


def input_size_of(model: nn.Module) -> List[int]:
    size = getattr(backbone_of(model), 'img_size', None)
    if size is None:
        raise ExportError(f'{type(model).__name__}: no img_size on its '
                          'backbone, so the input size is unknown')
    return [int(size), int(size)] if isinstance(size, int) else \
        [int(s) for s in size]


def input_spec(model: nn.Module) -> dict:
    """What the model expects of its input tensor: the data preprocessor's
    normalisation (ImageNet statistics for a bare backbone)."""
    dp = getattr(model, 'data_preprocessor', None)
    mean, std = list(IMAGENET_MEAN), list(IMAGENET_STD)
    if dp is not None and getattr(dp, '_enable_normalize', False):
        # float32 buffers: rounded back to the config's decimals
        mean = [round(float(v), 5) for v in dp.mean.view(-1)]
        std = [round(float(v), 5) for v in dp.std.view(-1)]
    # the preprocessor flips the channels before normalising: the exported
    # graph then wants them in the flipped order
    order = 'BGR' if dp is not None and getattr(
        dp, '_channel_conversion', False) else 'RGB'
    h, w = input_size_of(model)
    return dict(shape=['batch', 3, h, w], dtype='float32', layout='NCHW',
                channel_order=order, value_scale='0..255', mean=mean,
                std=std, formula='input = (pixel - mean) / std, per channel')


def normalise(batch: torch.Tensor, spec: dict) -> torch.Tensor:
    """uint8 (N, 3, H, W) RGB -> the float32 input ``spec`` describes."""
    x = batch.float()
    if spec['channel_order'] == 'BGR':
        x = x.flip(1)
    mean = torch.tensor(spec['mean']).view(1, -1, 1, 1)
    std = torch.tensor(spec['std']).view(1, -1, 1, 1)
    return (x - mean) / std


class ClassifierGraph(nn.Module):
    """Normalised images -> logits (softmax them for scores)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.head(self.model.extract_feat(x))


class EncoderGraph(nn.Module):
    """Normalised images -> the backbone's pooled features."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)


def graph_of(model: nn.Module, part: str) -> nn.Module:
    if part not in PARTS:
        raise ExportError(f'part must be one of {PARTS}, got {part!r}')
    if part == 'classifier':
        if not (isinstance(getattr(model, 'head', None), nn.Module)
                and hasattr(model, 'extract_feat')):
            raise ExportError(
                f'{type(model).__name__} has no classification head; '
                "export its encoder with part='encoder'")
        return ClassifierGraph(model).eval()
    return EncoderGraph(backbone_of(model)).eval()


@contextlib.contextmanager
def plain_attention(module: nn.Module):
    """Every ``fused_attn`` switch (our ViTs, timm's Attention) set to the
    plain matmul path for the duration, then restored."""
    saved = [(m, m.fused_attn) for m in module.modules()
             if hasattr(m, 'fused_attn')]
    try:
        for m, _ in saved:
            m.fused_attn = False
        yield
    finally:
        for m, value in saved:
            m.fused_attn = value


def _operator_in(err: Exception) -> Optional[str]:
    found = re.search(r"'?((?:aten|prim|onnx)::[A-Za-z0-9_.]+)'?", str(err))
    return found.group(1) if found else None


def _first_line(err: Exception) -> str:
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"


def _replace_into(tmp: str, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    os.replace(tmp, path)


def export_onnx(graph: nn.Module, example: torch.Tensor, path: str,
                opset: int = DEFAULT_OPSET) -> None:
    """``graph`` -> ONNX at ``path`` (written under a temporary name and
    renamed), batch axis dynamic."""
    tmp = f'{path}.exporting'
    try:
        with plain_attention(graph), torch.no_grad(), \
                warnings.catch_warnings():
            # the deprecation notice of this exporter, and timm's input-size
            # asserts, which the tracer reports (the size is fixed anyway)
            warnings.simplefilter('ignore')
            torch.onnx.export(
                graph, (example,), tmp, dynamo=False, opset_version=opset,
                input_names=['input'], output_names=['output'],
                dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}},
                do_constant_folding=True)
    except Exception as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        op = _operator_in(err)
        what = f'the operator {op} has no ONNX export at opset {opset}' \
            if op else _first_line(err)
        raise ExportError(f'cannot export to ONNX: {what}') from err
    _replace_into(tmp, path)


def export_torchscript(graph: nn.Module, example: torch.Tensor,
                       path: str) -> None:
    """``graph`` traced -> TorchScript at ``path`` (temporary name, then
    renamed). Tracing keeps the batch dimension symbolic."""
    tmp = f'{path}.exporting'
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # timm's input-size asserts
            traced = torch.jit.trace(graph, (example,), check_trace=False)
        traced.save(tmp)
    except Exception as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        op = _operator_in(err)
        what = f'the operator {op} cannot be traced' if op else \
            _first_line(err)
        raise ExportError(f'cannot export to TorchScript: {what}') from err
    _replace_into(tmp, path)


def run_exported(path: str, fmt: str, x: torch.Tensor) -> np.ndarray:
    """The exported file's output on ``x`` (onnxruntime for ONNX)."""
    if fmt == 'onnx':
        try:
            import onnxruntime as ort
        except ImportError:
            raise ExportError('checking an ONNX export needs onnxruntime: '
                              'pip install onnxruntime (or the test extra)')
        session = ort.InferenceSession(path,
                                       providers=['CPUExecutionProvider'])
        return session.run(None, {'input': x.numpy()})[0]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)  # jit's deprecation
        module = torch.jit.load(path, map_location='cpu')
    with torch.no_grad():
        return module(x).numpy()


def max_abs_difference(path: str, fmt: str, graph: nn.Module,
                       x: torch.Tensor) -> float:
    """Largest |exported - PyTorch| over the outputs for ``x`` (fp32,
    CPU)."""
    with torch.no_grad():
        expected = graph(x).float().numpy()
    got = run_exported(path, fmt, x)
    if got.shape != expected.shape:
        raise ExportVerificationError(
            f'{path}: output shape {got.shape}, PyTorch gives '
            f'{expected.shape}')
    return float(np.abs(got.astype(np.float64) - expected).max())


def export_model(model: nn.Module, path: str, fmt: str,
                 part: str = 'classifier',
                 example: Optional[torch.Tensor] = None,
                 opset: int = DEFAULT_OPSET) -> nn.Module:
    """Export ``part`` of ``model`` (on the CPU, fp32) to ``path``; returns
    the graph module that was exported (for checking)."""
    if fmt not in FORMATS:
        raise ExportError(f'format must be one of {FORMATS}, got {fmt!r}')
    model = model.float().cpu().eval()
    graph = graph_of(model, part)
    if example is None:
        h, w = input_size_of(model)
        example = torch.randn(2, 3, h, w)
    if fmt == 'onnx':
        export_onnx(graph, example, path, opset)
    else:
        export_torchscript(graph, example, path)
    return graph
