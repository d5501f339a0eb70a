"""bf16 parameters with fp32 masters (BF16MasterWeightOptimWrapper), the
refusal of precisions a device cannot run, and the GEMM patch embedding.
"""
import copy
import io
import math

import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import get_state_dict
from reliab_helpers import (
    FIXED_PIPELINE,
    load_state,
    logged_scalars,
    run_train,
    write_config,
)

from easymae.engine import AmpOptimWrapper, BF16MasterWeightOptimWrapper
from easymae.engine.precision import cpu_matrix_capability, precision_problem
from easymae.hub.convert import to_timm
from easymae.models.backbones.patch_embed import PatchEmbed
from easymae.models.backbones.vision_transformer import VisionTransformer

needs_bf16 = pytest.mark.skipif(
    precision_problem(torch.bfloat16, 'cpu') is not None,
    reason='this CPU cannot train in bf16')


def tiny_vit(**kw):
    torch.manual_seed(0)
    return VisionTransformer(arch='tiny', img_size=16, patch_size=4,
                             embed_dim=32, depth=1, num_heads=2, **kw)


def train(model, wrapper, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(2, 3, 16, 16, generator=g)
        with wrapper.optim_context(model):
            loss = model(x).float().pow(2).mean()
        wrapper.update_params(loss)


# ---------------------------------------------------------- precision
def test_precision_problems_name_the_reason():
    assert precision_problem(torch.float32, 'cpu') is None
    assert 'float16' in precision_problem(torch.float16, 'cpu')
    plain = frozenset({'avx2', 'fma'})
    assert cpu_matrix_capability(plain) == 'none'
    assert cpu_matrix_capability(plain | {'avx512_bf16'}) == 'avx512_bf16'
    assert cpu_matrix_capability(plain | {'amx_bf16'}) == 'amx'
    assert 'amx_bf16' in precision_problem(torch.bfloat16, 'cpu', plain)
    assert precision_problem(torch.bfloat16, 'cpu',
                             plain | {'avx512_bf16'}) is None


def test_wrappers_refuse_bf16_on_a_cpu_without_it(monkeypatch):
    from easymae.engine import precision
    monkeypatch.setattr(precision, 'cpu_flags',
                        lambda: frozenset({'avx2'}))
    opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    for cls in (AmpOptimWrapper, BF16MasterWeightOptimWrapper):
        with pytest.raises(ValueError, match='amx_bf16'):
            cls(optimizer=opt, device_type='cpu')
    with pytest.raises(ValueError, match='float16'):
        AmpOptimWrapper(optimizer=opt, dtype='float16', device_type='cpu')


# ------------------------------------------------------ master weights
@needs_bf16
def test_updates_below_bf16_resolution_accumulate_in_the_master():
    model = nn.Linear(4, 1, bias=False)
    nn.init.ones_(model.weight)
    wrapper = BF16MasterWeightOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=1e-4),
        device_type='cpu')
    x = torch.ones(1, 4)  # d loss / d weight = 1: each step moves 1e-4
    seen = []
    for _ in range(30):
        with wrapper.optim_context(model):
            loss = model(x).float().sum()
        wrapper.update_params(loss)
        (_, master), = wrapper.pairs
        seen.append((master[0, 0].item(), model.weight[0, 0].item()))
    assert model.weight.dtype == torch.bfloat16
    assert master.dtype == torch.float32
    masters = [m for m, _ in seen]
    # the master moves by 1e-4 every step ...
    assert all(b < a for a, b in zip(masters, masters[1:]))
    assert masters[-1] == pytest.approx(1 - 30e-4, abs=1e-6)
    # ... the bf16 weight (spacing 2^-8 below 1.0) stays until the master
    # has moved half a step, then follows it rounded
    assert [w for _, w in seen[:5]] == [1.0] * 5
    assert seen[-1][1] < 1.0
    assert seen[-1][1] == torch.tensor(masters[-1]).bfloat16().item()


@needs_bf16
def test_checkpoint_in_master_mode_loads_into_an_fp32_model():
    model = tiny_vit()
    wrapper = BF16MasterWeightOptimWrapper(
        optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3),
        device_type='cpu')
    train(model, wrapper, 3)
    assert model.blocks[0].attn.qkv.weight.dtype == torch.bfloat16
    state = get_state_dict(model)  # what the runner's checkpoints hold
    assert all(v.dtype == torch.float32 for v in state.values())
    masters = {id(p): m for p, m in wrapper.pairs}
    qkv = model.blocks[0].attn.qkv.weight
    assert torch.equal(state['blocks.0.attn.qkv.weight'], masters[id(qkv)])
    assert model.state_dict().keys() == state.keys()

    fp32 = tiny_vit()
    fp32.load_state_dict(state, strict=True)
    assert fp32.blocks[0].attn.qkv.weight.dtype == torch.float32
    assert torch.equal(fp32.blocks[0].attn.qkv.weight, masters[id(qkv)])
    # the converters see an ordinary fp32 timm-layout encoder
    conv = to_timm({'state_dict': state})
    assert conv.state_dict['patch_embed.proj.weight'].dtype == torch.float32

    # loading into the bf16 model sets the masters (exactly) as well
    other = tiny_vit(drop_path_rate=0.1)
    nn.init.constant_(other.blocks[0].attn.qkv.weight, 0.3)
    model.load_state_dict(other.state_dict(), strict=True)
    assert torch.equal(masters[id(qkv)], other.blocks[0].attn.qkv.weight)
    assert qkv.dtype == torch.bfloat16 and torch.all(qkv == 0.3 + 0 * qkv)


@needs_bf16
def test_master_mode_resumes_the_optimizer_state():
    model = tiny_vit()
    wrapper = BF16MasterWeightOptimWrapper(
        optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3),
        device_type='cpu')
    train(model, wrapper, 2)
    saved_model = get_state_dict(model)
    saved_opt = copy.deepcopy(wrapper.state_dict())  # as torch.save

    again = tiny_vit()
    again.load_state_dict(saved_model)
    wrapper2 = BF16MasterWeightOptimWrapper(
        optimizer=torch.optim.AdamW(again.parameters(), lr=1e-3),
        device_type='cpu')
    wrapper2.load_state_dict(saved_opt)  # before conversion, as resume
    train(model, wrapper, 1, seed=5)
    train(again, wrapper2, 1, seed=5)
    for (_, m1), (_, m2) in zip(wrapper.pairs, wrapper2.pairs):
        assert torch.equal(m1, m2)
    steps = [s['step'] for s in wrapper2.optimizer.state.values()]
    trainable = [p for p in again.parameters() if p.requires_grad]
    assert len(steps) == len(trainable) and all(s == 3 for s in steps)


@pytest.mark.slow
@needs_bf16
def test_digits_mae_loss_follows_the_autocast_run(tmp_path):
    # 50 iterations of the tiny digits MAE, same seed and masks: the
    # master-weight run's loss stays within 1% of the autocast run's at
    # every step and 0.5% on average (measured: 0.26% at most, 0.14% on
    # average, from 1.650 to 1.296)
    extra = ("train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', "
             'max_iters=50)\n')
    losses = {}
    for name in ('AmpOptimWrapper', 'BF16MasterWeightOptimWrapper'):
        cfg = write_config(tmp_path, name=f'{name}.py', ckpt_interval=50,
                           ckpt_by_epoch=False, pipeline=FIXED_PIPELINE,
                           extra=extra)
        run_train(cfg, tmp_path / name, '--cfg-options',
                  f'optim_wrapper.type={name}',
                  'optim_wrapper.dtype=bfloat16')
        logged = logged_scalars(tmp_path / name)
        assert sorted(logged) == list(range(1, 51))
        losses[name] = [logged[i]['loss'] for i in range(1, 51)]
    amp, master = losses.values()
    rel = [abs(b - a) / a for a, b in zip(amp, master)]
    assert all(math.isfinite(v) for v in master)
    assert master[-1] < 0.8 * master[0]  # it learns
    assert max(rel) < 0.01 and sum(rel) / len(rel) < 0.005
    # the runner's checkpoint of the master-weight run holds fp32 weights
    state = load_state(tmp_path / 'BF16MasterWeightOptimWrapper' /
                       'iter_50.pth')['state_dict']
    assert {v.dtype for v in state.values()} == {torch.float32}


# ---------------------------------------------------- patch embedding
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_gemm_patch_embedding_matches_the_convolution(dtype):
    torch.manual_seed(0)
    conv = PatchEmbed(16, 4, 3, 24, impl='conv').to(dtype)
    gemm = PatchEmbed(16, 4, 3, 24, impl='gemm').to(dtype)
    gemm.load_state_dict(conv.state_dict())
    assert conv.proj.weight.shape == (24, 3, 4, 4)  # the conv layout
    x = torch.randn(2, 3, 16, 16, dtype=dtype)
    grads = []
    for m in (conv, gemm):
        xi = x.clone().requires_grad_(True)
        out = m(xi)
        out.float().pow(2).sum().backward()
        grads.append((out, xi.grad, m.proj.weight.grad, m.proj.bias.grad))
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else \
        dict(atol=0.05, rtol=0.02)
    for a, b in zip(*grads):
        assert a.dtype == b.dtype == dtype
        torch.testing.assert_close(b.float(), a.float(), **tol)


def test_gemm_patch_embedding_under_autocast_and_auto():
    torch.manual_seed(0)
    conv = PatchEmbed(16, 4, 3, 24, impl='conv')
    auto = PatchEmbed(16, 4, 3, 24, impl='auto')
    auto.load_state_dict(conv.state_dict())
    x = torch.randn(2, 3, 16, 16)
    assert auto.resolve_impl(x) == 'gemm'  # on the CPU
    with torch.autocast('cpu', dtype=torch.bfloat16):
        a, b = conv(x), auto(x)
    assert a.dtype == b.dtype == torch.bfloat16
    torch.testing.assert_close(b.float(), a.float(), atol=0.05, rtol=0.02)
    (a.float().sum() + b.float().sum()).backward()
    assert auto.proj.weight.grad.dtype == torch.float32
    torch.testing.assert_close(auto.proj.weight.grad, conv.proj.weight.grad,
                               atol=0.5, rtol=0.02)
    with pytest.raises(ValueError, match='impl'):
        PatchEmbed(16, 4, 3, 24, impl='unfold')


def test_gemm_patch_embedding_without_grad_and_traced():
    # inference and tracing take autograd's own ops (a Python autograd
    # Function cannot be saved as TorchScript): same numbers as the conv
    torch.manual_seed(0)
    conv = PatchEmbed(16, 4, 3, 24, impl='conv')
    gemm = PatchEmbed(16, 4, 3, 24, impl='gemm')
    gemm.load_state_dict(conv.state_dict())
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = conv(x)
        torch.testing.assert_close(gemm(x), expected, atol=1e-5, rtol=1e-5)
        traced = torch.jit.trace(gemm, (x, ))
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer)
    torch.testing.assert_close(loaded(x), expected, atol=1e-5, rtol=1e-5)


@needs_bf16
def test_accumulated_gradients_sum_in_fp32():
    model = nn.Linear(2, 1, bias=False)
    wrapper = BF16MasterWeightOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
        accumulative_counts=2, device_type='cpu')
    for scale in (1.0, 2.0 ** -9):  # the second is below bf16's spacing
        with wrapper.optim_context(model):
            loss = model(torch.full((1, 2), scale)).float().sum()
        wrapper.backward(loss)
        (p, master), = wrapper.pairs
        assert p.grad is None  # moved into the master
    assert master.grad.dtype == torch.float32
    assert torch.all(master.grad == 1.0 + 2.0 ** -9)
