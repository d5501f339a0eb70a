"""FLIP's model: InfoNCE, masking counts, towers, optimiser groups."""
import math

import pytest
import torch
import torch.nn.functional as F
from flip_utils import REPO, tiny_flip_cfg
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

import easymae  # noqa: F401
from easymae.models.algorithms.flip import (
    clip_logits,
    clip_loss,
    num_kept_patches,
)
from easymae.registry import MODELS

SOT, EOT = 49406, 49407


def _tokens(n, length, seed=0):
    """Caption-like ids: start, words, end, padding (varying lengths)."""
    g = torch.Generator().manual_seed(seed)
    text = torch.zeros(n, length, dtype=torch.long)
    for i in range(n):
        k = 2 + i % (length - 3)
        text[i, 0] = SOT
        text[i, 1:1 + k] = torch.randint(1, 49000, (k, ), generator=g)
        text[i, 1 + k] = EOT
    return text


def _batch(n=4, img=16, length=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randint(0, 256, (n, 3, img, img), dtype=torch.uint8,
                         generator=g)
    return dict(inputs=imgs, data_samples=dict(text=_tokens(n, length, seed)))


def _reference_infonce(img, txt, scale):
    """Plain-python InfoNCE: log-softmax written out, both directions."""
    n = len(img)
    logits = [[scale * sum(a * b for a, b in zip(img[i], txt[j]))
               for j in range(n)] for i in range(n)]

    def nll(rows):
        total = 0.0
        for i, row in enumerate(rows):
            log_z = math.log(sum(math.exp(v) for v in row))
            total += -(row[i] - log_z)
        return total / n

    cols = [[logits[i][j] for i in range(n)] for j in range(n)]
    return (nll(logits) + nll(cols)) / 2


def test_clip_loss_equals_hand_computed_infonce():
    img = [[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]]
    txt = [[0.8, 0.6], [0.0, 1.0], [-0.6, -0.8]]
    for scale in (1.0, 1 / 0.07):
        ours = clip_loss(torch.tensor(img, dtype=torch.float64),
                         torch.tensor(txt, dtype=torch.float64),
                         torch.tensor(scale, dtype=torch.float64))
        assert ours.item() == pytest.approx(
            _reference_infonce(img, txt, scale), rel=1e-12)
    # matching pairs that agree best give a lower loss than shuffled ones
    perfect = clip_loss(torch.eye(3), torch.eye(3), torch.tensor(10.0))
    shuffled = clip_loss(torch.eye(3), torch.eye(3)[[1, 2, 0]],
                         torch.tensor(10.0))
    assert perfect < shuffled


def test_model_loss_is_infonce_of_its_own_features():
    torch.manual_seed(0)
    model = MODELS.build(tiny_flip_cfg(mask_ratio=0.0))
    data = model.data_preprocessor(_batch(), True)
    loss = model(**data, mode='loss')
    img = model.extract_image_feat(data['inputs'])
    txt = model.extract_text_feat(data['data_samples']['text'])
    assert torch.allclose(img.norm(dim=-1), torch.ones(4), atol=1e-5)
    expect = _reference_infonce(img.tolist(), txt.tolist(), 1 / 0.07)
    assert loss['loss'].item() == pytest.approx(expect, rel=1e-5)
    assert loss['logit_scale'].item() == pytest.approx(1 / 0.07, rel=1e-6)


def test_clip_loss_of_local_rows_averages_to_the_full_matrix_loss():
    """open_clip's local_loss: rank r scores its n rows against all N
    columns; the mean over ranks is the full (N, N) InfoNCE, and so are
    the gradients of every feature."""
    g = torch.Generator().manual_seed(0)
    world, n, e = 3, 4, 8
    img, txt = (F.normalize(torch.randn(world * n, e, generator=g,
                                        dtype=torch.float64), dim=-1)
                for _ in range(2))
    scale = torch.tensor(7.0, dtype=torch.float64)
    img_a, txt_a = img.clone().requires_grad_(), txt.clone().requires_grad_()
    full = clip_loss(img_a, txt_a, scale)
    full.backward()
    img_b, txt_b = img.clone().requires_grad_(), txt.clone().requires_grad_()
    shards = [clip_loss(img_b[r * n:(r + 1) * n], txt_b[r * n:(r + 1) * n],
                        scale, img_b, txt_b, rank=r) for r in range(world)]
    mean = sum(shards) / world
    mean.backward()
    assert mean.item() == pytest.approx(full.item(), rel=1e-12)
    assert torch.allclose(img_b.grad, img_a.grad, atol=1e-12)
    assert torch.allclose(txt_b.grad, txt_a.grad, atol=1e-12)
    logits_per_image, logits_per_text = clip_logits(
        img[:n], txt[:n], img, txt, scale)
    assert logits_per_image.shape == logits_per_text.shape == (n, world * n)


def _train_wrapper(model, **kwargs):
    return build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1), **kwargs))


def test_logit_scale_above_the_cap_is_clamped_and_keeps_its_gradient():
    cap = math.log(100.0)
    model = MODELS.build(tiny_flip_cfg())
    data = model.data_preprocessor(_batch(), True)
    with torch.no_grad():
        model.logit_scale.fill_(cap + 0.5)
    # the training forward caps the parameter before using it (under DDP
    # this forward runs, the module's train_step does not)
    out = model(**data, mode='loss')
    assert model.logit_scale.item() == pytest.approx(cap)
    assert out['logit_scale'].item() == pytest.approx(100.0)
    out['loss'].backward()
    assert model.logit_scale.grad is not None
    assert model.logit_scale.grad.abs().item() > 0
    with torch.no_grad():
        model.logit_scale.fill_(-3.0)
    model(**data, mode='loss')
    assert model.logit_scale.item() == 0.0


def test_train_step_clamps_the_parameter_after_the_optimizer_step():
    cap = math.log(100.0)
    torch.manual_seed(0)
    model = MODELS.build(tiny_flip_cfg())
    wrapper = _train_wrapper(model)
    # a step that overshoots the cap, whatever the gradient's sign
    wrapper.optimizer.register_step_post_hook(
        lambda opt, args, kwargs: model.logit_scale.data.add_(1.0))
    with torch.no_grad():
        model.logit_scale.fill_(cap + 0.5)
    model.train_step(_batch(), wrapper)
    assert model.logit_scale.item() <= cap
    # and a real step with the real gradient, from above the cap
    model = MODELS.build(tiny_flip_cfg())
    wrapper = _train_wrapper(model)
    with torch.no_grad():
        model.logit_scale.fill_(cap + 0.5)
    log_vars = model.train_step(_batch(), wrapper)
    assert log_vars['logit_scale'].item() == pytest.approx(100.0)
    assert model.logit_scale.item() <= cap


def test_gradient_accumulation_leaves_the_scale_between_steps():
    torch.manual_seed(0)
    model = MODELS.build(tiny_flip_cfg())
    wrapper = _train_wrapper(model, accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 2)
    start = model.logit_scale.item()
    model.train_step(_batch(seed=1), wrapper)  # backward only
    assert model.logit_scale.item() == start
    assert model.logit_scale.grad is not None
    model.train_step(_batch(seed=2), wrapper)  # optimizer step
    assert model.logit_scale.item() != start


@pytest.mark.parametrize('num_patches,ratio', [
    (16, 0.0), (16, 0.5), (16, 0.75), (64, 0.5), (64, 0.75), (49, 0.5),
    (49, 0.75), (100, 0.9), (196, 0.9)])
def test_masking_keeps_int_of_visible_share(num_patches, ratio):
    """The encoder sees int(L * (1 - ratio)) patches (+ the cls token)."""
    grid = math.isqrt(num_patches)
    img = grid * 2
    model = MODELS.build(tiny_flip_cfg(mask_ratio=ratio, img_size=img,
                                       patch_size=2))
    seen = []
    model.backbone.blocks[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].shape[1]))
    data = model.data_preprocessor(_batch(n=3, img=img), True)
    model(**data, mode='loss')
    expect = max(1, int(num_patches * (1 - ratio)))
    assert seen == [expect + 1]
    # evaluation never masks
    seen.clear()
    model.extract_image_feat(data['inputs'])
    assert seen == [num_patches + 1]


def test_num_kept_patches_is_int_as_mae_and_open_clip():
    # MAE's random_masking and open_clip's PatchDropout truncate
    assert num_kept_patches(196, 0.9) == 19  # round() would give 20
    assert num_kept_patches(100, 0.9) == 9  # 100 * 0.0999... = 9.99...
    assert num_kept_patches(10, 0.9) == 1  # at least one patch
    for L in (16, 49, 64, 196, 256):
        for r in (0.0, 0.5, 0.75, 0.9):
            assert num_kept_patches(L, r) == max(1, int(L * (1 - r)))


def test_text_tower_is_causal_and_pools_at_end_token():
    torch.manual_seed(0)
    tower = MODELS.build(dict(type='TextTransformer', context_length=12,
                              width=32, depth=2, num_heads=4, embed_dim=8))
    text = _tokens(2, 12)
    x = tower.encode(tower.embed(text))
    later = text.clone()
    later[:, 6:] = 123  # change everything from position 6 on
    y = tower.encode(tower.embed(later))
    assert torch.allclose(x[:, :6], y[:, :6], atol=1e-6)
    assert not torch.allclose(x[:, 6:], y[:, 6:])
    # padding after <end_of_text> does not change the caption's feature
    padded = text.clone()
    eot = (text == EOT).int().argmax(1)
    for i in range(2):
        padded[i, eot[i] + 1:] = 777
    assert torch.allclose(tower(text), tower(padded), atol=1e-6)
    with pytest.raises(ValueError, match='context_length'):
        tower(_tokens(2, 10))


def test_text_masking_keeps_order_and_special_tokens():
    tower = MODELS.build(dict(type='TextTransformer', context_length=16,
                              width=32, depth=1, num_heads=4, embed_dim=8))
    text = _tokens(3, 16, seed=1)
    x = tower.embed(text)
    kept_x, kept = tower.mask_tokens(x, text, 0.5)
    assert kept.shape == (3, 8) and kept_x.shape == (3, 8, 32)
    for row, full in zip(kept, text):
        assert row[0] == SOT and EOT in row.tolist()
        # kept tokens appear in their original order
        pos = [full.tolist().index(t) if t != 0 else None
               for t in row.tolist()]
        words = [p for p in pos if p is not None]
        assert words == sorted(words)
        # padding is dropped before words
        n_words = int((full != 0).sum())
        assert int((row != 0).sum()) == min(8, n_words)
    model = MODELS.build(tiny_flip_cfg(text_mask_ratio=0.5))
    out = model(**model.data_preprocessor(_batch(), True), mode='loss')
    assert torch.isfinite(out['loss'])


def test_synthetic_batch_trains_every_parameter():
    """The benchmark's path: model from config + synthetic batch."""
    cfg = Config.fromfile(
        f'{REPO}/configs/selfsup/flip/'
        'flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini.py')
    cfg.model.backbone.depth = 1
    cfg.model.text_backbone.depth = 1
    model = MODELS.build(cfg.model)
    assert model.mask_ratio == 0.5
    data = model.data_preprocessor(_batch(n=4, img=64, length=32), True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and p.grad is None]
    assert missing == []
    with pytest.raises(KeyError, match="data_samples\\['text'\\]"):
        model(data['inputs'], dict(gt_label=torch.zeros(4)), mode='loss')


def test_weight_decay_skips_bias_norm_positions_cls_and_logit_scale():
    cfg = Config.fromfile(
        f'{REPO}/configs/selfsup/flip/flip_vit-base-p16_256xb256-'
        '10000ve_laion400m.py')
    model = MODELS.build(tiny_flip_cfg(
        backbone=dict(type='VisionTransformer', img_size=16, patch_size=4,
                      embed_dim=32, depth=1, num_heads=4, global_pool='avg',
                      pos_embed='learned')))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    opt = wrapper.optimizer
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.defaults['betas'] == (0.9, 0.95)
    decay = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        for p in group['params']:
            decay[names[id(p)]] = group['weight_decay']
    for name, wd in decay.items():
        no_decay = (name.endswith('.bias') or 'norm' in name
                    or name in ('logit_scale', 'backbone.cls_token',
                                'backbone.pos_embed',
                                'text_backbone.pos_embed'))
        assert wd == (0.0 if no_decay else 0.2), name
    assert decay['backbone.blocks.0.attn.qkv.weight'] == 0.2
    assert decay['image_proj.weight'] == 0.2
    assert decay['logit_scale'] == 0.0
