"""MoCo v3: the InfoNCE by hand and across processes, the momentum
encoder's EMA rule and schedule, the frozen patch projection, a tiny run
on real images whose loss falls, conversion of either encoder to a
finetune backbone, and clear errors for bad input."""
import math
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from contrastive_utils import (
    REPO,
    adamw,
    batches,
    digits_dataset,
    set_progress,
    tiny_mocov3,
    tiny_vit,
)

from easymae.fileio.state_dict import CheckpointMismatchError
from easymae.hub.pretrained import load_backbone_state
from easymae.models.algorithms.mocov3 import contrastive_loss
from easymae.models.utils.momentum import cosine_momentum
from easymae.registry import MODELS

WORKER = osp.join(REPO, 'tests', 'contrastive_ddp_worker.py')


def test_infonce_equals_a_hand_computation():
    q = torch.tensor([[3.0, 0.0], [0.0, 2.0]])
    k = torch.tensor([[1.0, 1.0], [0.0, 5.0]])
    tau = 0.2
    qn = [[1.0, 0.0], [0.0, 1.0]]
    kn = [[2 ** -0.5, 2 ** -0.5], [0.0, 1.0]]
    loss = 0.0
    for i in range(2):
        logits = [sum(a * b for a, b in zip(qn[i], kn[j])) / tau
                  for j in range(2)]
        loss += -logits[i] + math.log(sum(math.exp(x) for x in logits))
    expected = loss / 2 * 2 * tau
    assert contrastive_loss(q, k, tau).item() == pytest.approx(expected,
                                                               rel=1e-6)
    # rank r's queries point at its slice of the gathered keys: alone,
    # rank 1's labels (2, 3) are out of range
    with pytest.raises(IndexError):
        contrastive_loss(q, k, tau, rank=1)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0.99, 0, 100) == pytest.approx(0.99)
    assert cosine_momentum(0.99, 50, 100) == pytest.approx(0.995)
    assert cosine_momentum(0.99, 100, 100) == pytest.approx(1.0)
    assert cosine_momentum(0.99, 25, 100) == pytest.approx(
        1 - 0.5 * (1 + math.cos(math.pi / 4)) * 0.01)
    assert cosine_momentum(0.99, 7, None) == 0.99  # no runner: base value


def test_momentum_encoder_gets_no_gradient_and_moves_by_the_ema_rule():
    torch.manual_seed(0)
    model = tiny_mocov3()
    model.train()
    # make the base encoder differ from its momentum copy
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(0.01 * torch.randn_like(p))
    before = {k: v.clone() for k, v in
              model.momentum_encoder.named_parameters()}
    base = dict(model.backbone.named_parameters(prefix='backbone'))
    base.update(model.projector.named_parameters(prefix='projector'))
    set_progress(30, 120)
    m = cosine_momentum(0.99, 30, 120)
    views = [torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
             for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=views), True)
    out = model(**data, mode='loss')
    assert out['momentum'].item() == pytest.approx(m)
    out['loss'].backward()
    moved = 0
    for name, p in model.momentum_encoder.named_parameters():
        assert p.grad is None and not p.requires_grad, name
        expected = m * before[name] + (1 - m) * base[name].detach()
        assert torch.allclose(p, expected, atol=1e-7), name
        moved += int(not torch.equal(p, before[name]))
    assert moved > 10
    # the predictor is not part of the momentum encoder
    assert not any(k.startswith('predictor') for k in
                   dict(model.momentum_encoder.named_parameters()))
    assert model.backbone.blocks[0].attn.qkv.weight.grad is not None
    assert model.predictor.mlp[0].weight.grad is not None


def test_patch_projection_switch():
    frozen, trained = tiny_mocov3(), tiny_mocov3(stop_grad_patch_proj=False)
    assert not frozen.backbone.patch_embed.proj.weight.requires_grad
    assert trained.backbone.patch_embed.proj.weight.requires_grad


def test_bad_input_is_a_clear_error():
    model = tiny_mocov3()
    one = torch.zeros(4, 3, 32, 32)
    with pytest.raises(ValueError, match=r'two augmented views.*\(4, 3, '
                       r'32, 32\).*MultiView'):
        model(one, mode='loss')
    with pytest.raises(ValueError, match='exactly 2 views.*got 3'):
        model([one, one, one], mode='loss')
    with pytest.raises(ValueError, match='differ in shape'):
        model([one, torch.zeros(4, 3, 16, 16)], mode='loss')
    for m in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r'base_momentum must be in '
                           r'\[0, 1\]'):
            tiny_mocov3(base_momentum=m)


def test_conversion_takes_the_base_or_the_momentum_encoder():
    torch.manual_seed(0)
    model = tiny_mocov3()
    with torch.no_grad():
        for p in model.momentum_encoder.parameters():
            p.add_(1.0)
    ckpt = {'state_dict': model.state_dict(), 'meta': {}}
    vit = MODELS.build(tiny_vit())
    conv = load_backbone_state(vit, ckpt, 'moco.pth')
    assert torch.equal(vit.blocks[1].mlp.fc2.weight,
                       model.backbone.blocks[1].mlp.fc2.weight)
    assert any(k.startswith('predictor.') for k in conv.dropped)
    load_backbone_state(vit, ckpt, 'moco.pth',
                        prefix='momentum_encoder.backbone.')
    assert torch.equal(
        vit.blocks[1].mlp.fc2.weight,
        model.momentum_encoder['backbone'].blocks[1].mlp.fc2.weight)
    # the expected-missing rule stays strict: a foreign key is an error
    ckpt['state_dict']['backbone.extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError, match='extra.weight'):
        load_backbone_state(vit, ckpt, 'moco.pth')


def test_two_views_from_the_pipeline_reach_the_model():
    ds = digits_dataset('digits_mocov3.py')
    batch = next(batches(ds, 4, 1))
    assert isinstance(batch['inputs'], list) and len(batch['inputs']) == 2
    assert batch['inputs'][0].dtype == torch.uint8
    assert batch['inputs'][0].shape == (4, 3, 32, 32)
    model = tiny_mocov3()
    data = model.data_preprocessor(batch, True)
    assert [v.dtype for v in data['inputs']] == [torch.float32] * 2
    # asymmetric augmentation: the two views of an image differ
    assert not torch.equal(*batch['inputs'])


@pytest.mark.slow
def test_tiny_run_on_real_images_lowers_the_loss():
    torch.manual_seed(0)
    model = tiny_mocov3()
    model.train()
    proj = model.backbone.patch_embed.proj.weight.clone()
    wrapper = adamw(model, lr=5e-4, weight_decay=0.1)
    steps, losses = 40, []
    for i, batch in enumerate(batches(digits_dataset('digits_mocov3.py'),
                                      32, steps)):
        set_progress(i, steps)
        losses.append(model.train_step(batch, wrapper)['loss'].item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.1, losses
    # AdamW with weight decay ran 40 steps: the frozen projection is intact
    assert torch.equal(model.backbone.patch_embed.proj.weight, proj)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_worker(mode, tmp_path, world):
    out = str(tmp_path / f'{mode}-{world}.pt')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE',
                'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK'):
        env.pop(var, None)
    cmd = [sys.executable, WORKER, mode, out]
    if world > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               f'--nproc_per_node={world}', '--master_addr=127.0.0.1',
               f'--master_port={_free_port()}'] + cmd[1:]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return torch.load(out, weights_only=True)


@pytest.mark.slow
def test_infonce_with_two_processes_matches_one(tmp_path):
    one = run_worker('infonce', tmp_path, 1)
    two = run_worker('infonce', tmp_path, 2)
    assert (one['world'], two['world']) == (1, 2)
    assert torch.allclose(two['loss'], one['loss'], rtol=1e-6)
    assert torch.allclose(two['q_grad'], one['q_grad'], atol=1e-7)
    # a rank's loss has all 8 keys as negatives, not just its own 4
    gen = torch.Generator().manual_seed(1)
    q, k = torch.randn(8, 6, generator=gen), torch.randn(8, 6, generator=gen)
    alone = contrastive_loss(q[:4], k[:4], 0.2)
    assert not torch.allclose(two['rank_loss'], alone, atol=1e-3)


@pytest.mark.slow
def test_resume_from_another_algorithm_names_file_and_keys(
        tiny_mae_checkpoint, tmp_path):
    config = osp.join(REPO, 'configs', 'selfsup', 'mocov3',
                      'mocov3_vit-tiny-d6-p4_1xb64-30e_digits.py')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
         '--work-dir', str(tmp_path), '--resume', str(tiny_mae_checkpoint),
         '--cfg-options', 'model.backbone.depth=2',
         'model.backbone.embed_dim=48'],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 1, proc.stderr[-3000:]
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith('error:') and str(tiny_mae_checkpoint) in err
    assert 'momentum_encoder' in err or 'projector' in err
