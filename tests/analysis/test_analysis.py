"""Attention statistics and CKA: formulas checked on constructed cases,
tools run on a real checkpoint."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from easymae.analysis import encoder_of, linear_cka
from easymae.analysis.attention_stats import patch_distances

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_cka_invariances():
    torch.manual_seed(0)
    x = torch.randn(50, 8)
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, 3.0 * x @ q + 2.0) == pytest.approx(1.0)
    unrelated = linear_cka(x, torch.randn(50, 8))
    assert unrelated < 0.5
    assert linear_cka(x, x[:, :4]) < 1.0


def test_patch_distances():
    d = patch_distances(3, 4)
    assert d.shape == (9, 9)
    assert d[0, 1] == 4 and d[0, 3] == 4
    assert d[0, 8] == pytest.approx((8 ** 2 + 8 ** 2) ** 0.5)


def test_uniform_and_local_attention_extremes():
    """The statistics of a head that attends uniformly vs only to itself."""
    d = patch_distances(4, 2)
    uniform = torch.full((16, 16), 1 / 16)
    local = torch.eye(16)
    assert (local * d).sum(-1).mean() == 0
    assert (uniform * d).sum(-1).mean() == pytest.approx(d.mean().item())
    ent = -(uniform * uniform.log()).sum(-1).mean()
    assert ent == pytest.approx(torch.log(torch.tensor(16.)).item())


@pytest.mark.slow
def test_analysis_tools_on_a_trained_checkpoint(tiny_mae_checkpoint,
                                                 tmp_path):
    ckpt = str(tiny_mae_checkpoint)
    out = tmp_path / 'attn'
    subprocess.run([sys.executable,
                    osp.join(REPO, 'tools', 'analysis', 'attention_stats.py'),
                    ckpt, ckpt, '--labels', 'a', 'b', '--num-images', '16',
                    '--out', str(out)],
                   check=True, capture_output=True, timeout=300)
    stats = json.loads((out / 'attention_stats.json').read_text())['models']
    assert [m['label'] for m in stats] == ['a', 'b']
    dist = torch.tensor(stats[0]['distance_per_layer_head'])
    assert dist.shape == (2, 3)   # 2 layers x 3 heads (arch tiny)
    # a mean distance lies between 0 and the grid's diagonal (8x8 x 4 px)
    assert (dist >= 0).all() and (dist <= 28 * 2 ** 0.5).all()
    # the same checkpoint on the same images: the same numbers
    assert stats[1]['distance_per_layer_head'] == stats[0][
        'distance_per_layer_head']
    assert stats[1]['entropy_per_layer_head'] == stats[0][
        'entropy_per_layer_head']
    assert (out / 'attention_distance.png').stat().st_size > 1000
    sim = tmp_path / 'sim'
    subprocess.run([sys.executable,
                    osp.join(REPO, 'tools', 'analysis',
                             'layer_similarity.py'),
                    ckpt, ckpt, ckpt, '--labels', 'x', 'y',
                    '--num-images', '32', '--out', str(sim)],
                   check=True, capture_output=True, timeout=300)
    record = json.loads((sim / 'layer_similarity.json').read_text())
    assert [p['label'] for p in record['panels']] == ['x', 'y']
    assert 'cka' not in record  # the top-level copy is for one panel only
    for panel in record['panels']:
        # a model compared with itself: 1 on the diagonal
        torch.testing.assert_close(torch.tensor(panel['cka']).diagonal(),
                                   torch.ones(2), atol=1e-6, rtol=0)
    assert (sim / 'layer_similarity.png').stat().st_size > 1000


def test_encoder_of_picks_the_vit_and_names_what_is_missing():
    from easymae.registry import MODELS
    dino = MODELS.build(dict(
        type='DINO',
        backbone=dict(type='VisionTransformer', arch='tiny', depth=1,
                      img_size=16, patch_size=4),
        head=dict(type='DINOHead', out_dim=16, hidden_dim=16,
                  bottleneck_dim=8)))
    assert encoder_of(dino) is dino.backbone
    assert encoder_of(dino, 'teacher') is dino.teacher['backbone']
    assert encoder_of(dino, 'teacher') is not dino.backbone
    with pytest.raises(ValueError, match="no 'momentum' encoder .*"
                       r'\(it has: backbone, teacher\)'):
        encoder_of(dino, 'momentum')
    with pytest.raises(ValueError, match="encoder 'ema': expected one of"):
        encoder_of(dino, 'ema')
