"""``fused_attn``: 'auto' trains in bf16 on the CPU with the plain matmul
attention (faster there, see benchmarks/attention_kernels.py) and uses SDPA
otherwise; both kernels compute the same model."""
import pytest
import torch

import easymae  # noqa: F401
from easymae.registry import MODELS


def vit(**kw):
    return MODELS.build(dict(type='VisionTransformer', arch='tiny',
                             img_size=16, patch_size=4, embed_dim=32,
                             depth=2, num_heads=2, **kw))


def kernels(model):
    return {blk.attn.fused_attn for blk in model.blocks}


def test_auto_picks_plain_for_bf16_cpu_training_and_sdpa_otherwise():
    model, x = vit(), torch.rand(2, 3, 16, 16)
    model(x)
    assert kernels(model) == {True}  # fp32
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model(x)
        assert kernels(model) == {False}
        with torch.no_grad():
            model(x)
        assert kernels(model) == {True}  # inference keeps SDPA


@pytest.mark.parametrize('setting', [True, False])
def test_a_fixed_setting_is_kept(setting):
    model, x = vit(fused_attn=setting), torch.rand(2, 3, 16, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model(x)
    assert kernels(model) == {setting}


def test_both_kernels_compute_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    fused, plain = vit(fused_attn=True), vit(fused_attn=False)
    plain.load_state_dict(fused.state_dict())
    x = torch.rand(3, 3, 16, 16)
    outs = []
    for model in (fused, plain):
        out = model(x)
        out.sum().backward()
        outs.append((out, model.blocks[0].attn.qkv.weight.grad))
    assert torch.allclose(outs[0][0], outs[1][0], atol=1e-5)
    assert torch.allclose(outs[0][1], outs[1][1], atol=1e-4)


def test_a_wrong_value_names_the_option():
    with pytest.raises(ValueError, match="fused_attn must be True, False or "
                       "'auto', got 'yes'"):
        vit(fused_attn='yes')
    with pytest.raises(ValueError, match='MAEDecoder: fused_attn'):
        MODELS.build(dict(type='MAEDecoder', fused_attn=1.5))
