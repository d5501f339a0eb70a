"""DINO: the teacher-temperature schedule and the centre update against
their formulas, the loss by hand, local crops never reaching the teacher,
the teacher's EMA, the frozen last layer, the weight-decay schedule,
multi-crop batches through the pipeline, preprocessor and DDP, a tiny run
on real images that does not collapse, and clear errors for bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from contrastive_utils import (
    adamw,
    batches,
    digits_dataset,
    set_progress,
    tiny_dino,
    tiny_vit,
)
from mmengine.registry import DefaultScope
from test_mocov3 import run_worker

from easymae.apis import load_config
from easymae.config_check import resolve_param_scheduler
from easymae.models.algorithms.dino import dino_loss, teacher_temperature
from easymae.models.utils.momentum import cosine_momentum
from easymae.registry import PARAM_SCHEDULERS


def _views(n=4, sizes=(32, 32, 16, 16), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (n, 3, s, s), generator=gen,
                          dtype=torch.uint8) for s in sizes]


def test_teacher_temperature_follows_the_linear_warmup():
    ref = np.concatenate([np.linspace(0.04, 0.07, 30), np.full(70, 0.07)])
    ours = [teacher_temperature(e, 0.04, 0.07, 30) for e in range(100)]
    assert np.allclose(ours, ref)
    assert teacher_temperature(0, 0.04, 0.07, 1) == 0.04
    assert teacher_temperature(5, 0.04, 0.07, 0) == 0.07


def test_centre_update_is_the_ema_of_the_batch_mean():
    model = tiny_dino()
    c0 = torch.randn(1, 256)
    model.center.copy_(c0)
    out = torch.randn(10, 256)
    model.update_center(out)
    assert torch.allclose(model.center, 0.9 * c0 + 0.1 * out.mean(0),
                          atol=1e-6)


def test_loss_by_hand_skips_same_view_pairs():
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(3 * 2, 5, generator=gen)  # 3 views of 2 images
    p = torch.softmax(torch.randn(2 * 2, 5, generator=gen), -1)
    terms = []
    for t in range(2):
        for v in range(3):
            if v != t:
                logq = F.log_softmax(s[2 * v:2 * v + 2] / 0.1, -1)
                terms.append(-(p[2 * t:2 * t + 2] * logq).sum(-1).mean())
    expected = torch.stack(terms).mean()
    assert torch.allclose(dino_loss(s, p, 3, 0.1), expected)


def test_local_crops_never_reach_the_teacher():
    model = tiny_dino()
    model.train()
    seen = {'teacher': [], 'student': []}
    for who, vit in (('teacher', model.teacher['backbone']),
                     ('student', model.backbone)):
        vit.patch_embed.impl = 'conv'  # so that every view calls proj
        vit.patch_embed.proj.register_forward_hook(
            lambda m, args, out, who=who: seen[who].append(
                tuple(args[0].shape[-2:])))
    data = model.data_preprocessor(dict(inputs=_views()), True)
    model(**data, mode='loss')
    assert set(seen['teacher']) == {(32, 32)}
    assert set(seen['student']) == {(32, 32), (16, 16)}
    # one pass per size: the two globals together, the two locals together
    assert len(seen['student']) == 2 and len(seen['teacher']) == 1


def test_teacher_gets_no_gradient_and_follows_the_student():
    torch.manual_seed(0)
    model = tiny_dino()
    model.train()
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(0.01 * torch.randn_like(p))
    before = {k: v.clone() for k, v in model.teacher.named_parameters()}
    student = dict(model.backbone.named_parameters(prefix='backbone'))
    student.update(model.dino_head.named_parameters(prefix='dino_head'))
    set_progress(10, 100, epoch=1)
    data = model.data_preprocessor(dict(inputs=_views()), True)
    model(**data, mode='loss')['loss'].backward()
    m = cosine_momentum(0.996, 9, 100)  # the update of iteration 9
    for name, p in model.teacher.named_parameters():
        assert p.grad is None, name
        assert torch.allclose(p, m * before[name] + (1 - m) *
                              student[name].detach(), atol=1e-7), name


def test_last_layer_is_frozen_in_the_first_epoch():
    for epoch, frozen in ((0, True), (1, False)):
        model = tiny_dino()
        model.train()
        set_progress(0, 100, epoch=epoch)
        data = model.data_preprocessor(dict(inputs=_views()), True)
        model(**data, mode='loss')['loss'].backward()
        grad = model.dino_head.last_layer.weight.grad
        # a zero gradient, not none (DDP needs one for every parameter)
        assert grad is not None
        assert (grad.abs().sum() == 0) == frozen
        assert model.dino_head.mlp[0].weight.grad.abs().sum() > 0


def test_weight_decay_rises_by_cosine_and_spares_the_flat_group():
    cfg = load_config('configs/selfsup/dino/'
                      'dino_vit-small-p16_8xb64-100e_in1k.py')
    sched = [s for s in resolve_param_scheduler(cfg.param_scheduler, cfg)
             if s.get('param_name') == 'weight_decay']
    assert len(sched) == 1
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(
        torch.zeros(2))
    from mmengine.optim import OptimWrapper
    wrapper = OptimWrapper(torch.optim.AdamW(
        [dict(params=[a], weight_decay=0.04),
         dict(params=[b], weight_decay=0.0)], lr=1.0))
    with DefaultScope.overwrite_default_scope('easymae'):
        scheduler = PARAM_SCHEDULERS.build(
            dict(sched[0]), default_args=dict(optimizer=wrapper,
                                              epoch_length=2))
    values = []
    a.grad, b.grad = torch.zeros(2), torch.zeros(2)
    for _ in range(200):
        values.append([g['weight_decay'] for g in
                       wrapper.optimizer.param_groups])
        wrapper.optimizer.step()
        scheduler.step()
    # iteration i of 200 (epoch_length 2 x 100 epochs) trains with
    t = np.arange(200) / 200
    expected = 0.4 + (0.04 - 0.4) * (1 + np.cos(np.pi * t)) / 2
    assert np.allclose([v[0] for v in values], expected, atol=1e-7)
    assert all(v[1] == 0.0 for v in values)


def test_multi_crop_batches_from_the_pipeline():
    ds = digits_dataset('digits_dino.py')
    batch = next(batches(ds, 4, 1))
    shapes = [tuple(v.shape) for v in batch['inputs']]
    assert shapes == [(4, 3, 32, 32)] * 2 + [(4, 3, 16, 16)] * 4
    model = tiny_dino()
    data = model.data_preprocessor(batch, True)
    x = data['inputs']
    assert [v.dtype for v in x] == [torch.float32] * 6
    assert abs(float(torch.cat([v.flatten() for v in x]).mean())) < 3
    assert torch.isfinite(model(**data, mode='loss')['loss'])


def test_bad_input_is_a_clear_error():
    model = tiny_dino()
    one = torch.zeros(4, 3, 32, 32)
    with pytest.raises(ValueError, match=r'several crops.*\(4, 3, 32, 32\)'):
        model(one, mode='loss')
    with pytest.raises(ValueError, match='at least 2 views'):
        model([one], mode='loss')
    with pytest.raises(ValueError, match=r'local crop 2 is \(48, 48\), '
                       r'larger than the global crops \(32, 32\)'):
        model([one, one, torch.zeros(4, 3, 48, 48)], mode='loss')
    with pytest.raises(ValueError, match='global crop 1'):
        model([one, torch.zeros(4, 3, 16, 16)], mode='loss')
    with pytest.raises(ValueError, match=r'base_momentum must be in \[0, 1'):
        tiny_dino(base_momentum=1.2)
    with pytest.raises(ValueError, match='center_momentum'):
        tiny_dino(center_momentum=-0.5)


def _run(data, **kw):
    torch.manual_seed(0)
    model = tiny_dino(backbone=tiny_vit(pos_embed='learned', embed_dim=32,
                                        depth=1, num_heads=2),
                      base_momentum=0.99, **kw)
    model.train()
    wrapper = adamw(model, lr=5e-4)
    logs = []
    for i, batch in enumerate(data):
        set_progress(i, len(data), epoch=i // 20)
        logs.append({k: v.item() for k, v in
                     model.train_step(batch, wrapper).items()})
    return logs


@pytest.mark.slow
def test_tiny_run_on_real_images_does_not_collapse():
    data = list(batches(digits_dataset('digits_dino.py'), 32, 40))
    full = _run(data)
    no_centre = _run(data, center_momentum=1.0)  # the centre stays 0
    log_k = np.log(256)
    h_full = [x['teacher_entropy'] for x in full]
    h_none = [x['teacher_entropy'] for x in no_centre]
    # without centring one prototype takes over: the teacher's entropy
    # falls; with it, the teacher's output stays spread ...
    assert np.mean(h_none[15:20]) < h_none[0] - 0.5
    assert np.mean(h_full[-5:]) > np.mean(h_none[-5:]) + 1.0
    # ... but sharpening keeps it from going uniform, and the student
    # still has something to learn (KL(teacher || student) > 0)
    assert max(h_full) < 0.99 * log_k
    assert min(x['kl_div'] for x in full) > 0.1
    assert all(np.isfinite(x['loss']) for x in full)


@pytest.mark.slow
def test_multi_crop_through_ddp_matches_one_process(tmp_path):
    one = run_worker('dino', tmp_path, 1)
    two = run_worker('dino', tmp_path, 2)
    assert (one['world'], two['world']) == (1, 2)
    # the centre is all-reduced: two half batches give the whole batch's
    assert torch.allclose(two['center'], one['center'], atol=1e-6)
    assert not torch.equal(two['center'], torch.zeros_like(two['center']))
    assert two['grads_equal'].item() == 1.0
    assert two['finite'].item() == 1.0
