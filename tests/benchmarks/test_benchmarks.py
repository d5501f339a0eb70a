"""Benchmarks harness smoke tests and the speed-ups kept from it.

No timings are asserted (the machine is shared): the harness must run and
report its fields, FLOP counts must order as the models' sizes do, and each
optimisation must compute what the plain path computes.
"""
import json
import os.path as osp
import random
import sys

import cv2
import numpy as np
import pytest
import torch

from easymae.datasets.transforms.loading import (
    LoadImage,
    PendingJpeg,
    jpeg_size,
)
from easymae.datasets.transforms.processing import RandomResizedCrop
from easymae.engine.precision import precision_problem
from easymae.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

import data_pipeline  # noqa: E402
import gemm_shapes  # noqa: E402
import train_step  # noqa: E402

TINY = ['--arch', 'vit-tiny', '--img-size', '32', '--patch-size', '16',
        '--batch', '2', '--warmup', '1', '--steps', '1', '--repeats', '1',
        '--peak-size', '64', '--cfg-options', 'model.backbone.depth=1',
        'model.backbone.embed_dim=32', 'model.backbone.num_heads=2']
TINY_MAE = ['model.neck.decoder_depth=1', 'model.neck.decoder_embed_dim=32',
            'model.neck.decoder_num_heads=2']


# this CPU has no bf16 matrix units: bf16 training is refused here
NO_BF16 = precision_problem(torch.bfloat16, 'cpu') is not None


def last_json(capsys):
    lines = capsys.readouterr().out.strip().splitlines()
    return json.loads(lines[-1])


def test_train_step_compare_reports_fields_and_ordered_flops(capsys):
    out = train_step.main(['--model', 'mae'] + TINY + TINY_MAE + [
        '--compare', '', '--cfg-options model.encoder_mask_token=True'])
    printed = last_json(capsys)
    assert printed['img_per_s'] == pytest.approx(out['img_per_s'])
    mae, enc_m = printed['results']
    for r in (mae, enc_m):
        assert r['img_per_s'] > 0 and r['flops_per_img'] > 0
        assert 0 < r['share_of_matmul_peak']
    # the encoder sees 4 tokens instead of 1 (+cls): more FLOPs, never less
    assert enc_m['flops_per_img'] > mae['flops_per_img']
    (ratio,) = printed['ratios']
    assert ratio['cheap'] == mae['label']
    assert ratio['flop_ratio'] == pytest.approx(
        enc_m['flops_per_img'] / mae['flops_per_img'])
    # a CPU without bf16 matrix units is asked for its fp32 peak only
    assert set(printed['matmul_peak_flops']) == (
        {'fp32'} if NO_BF16 else {'fp32', 'bf16'})


def test_harness_import_registers_no_model():
    """The finetune harness's classifier is built from its class, never
    added to the registry that users' configs resolve names in."""
    assert train_step.PlainClassifier not in MODELS.module_dict.values()
    assert not any('Bench' in name for name in MODELS.module_dict)


def test_train_step_finetune_flops_match_the_matmul_count(capsys):
    """One block, 4 tokens + cls, D=32: count the matmuls by hand."""
    train_step.main(['--model', 'finetune', '--no-flops'] + TINY)
    capsys.readouterr()
    out = train_step.main(['--model', 'finetune'] + TINY)
    N, D, L, P = 5, 32, 4, 16 * 16 * 3
    fwd = (2 * L * P * D            # patch projection (conv)
           + 2 * N * D * (3 * D + D + 4 * D + 4 * D)  # qkv, proj, mlp
           + 2 * 2 * N * N * D      # q k^T and attn v (all heads)
           + 2 * D * 1000)          # head
    # backward: grads of weights and inputs (2x), but not of the image
    expected = 3 * fwd - 2 * L * P * D
    assert out['flops_per_img'] == pytest.approx(expected, rel=0.02)


def test_train_step_runs_the_multi_view_steps(capsys):
    """MoCo v3 (2 views) and DINO (2 global + local crops) get a list of
    uint8 views; the momentum encoder / teacher moves inside the step."""
    # the configs are ViT-S ones (DINO has no ViT-B config to fall back on)
    tiny = TINY[2:TINY.index('--cfg-options')] + [
        '--img-size', '64', '--cfg-options', 'model.backbone.depth=1',
        'model.backbone.embed_dim=32', 'model.backbone.num_heads=2']
    moco = train_step.main(['--model', 'mocov3', '--arch', 'vit-small'] +
                           tiny + ['model.projector.hidden_channels=32',
                                   'model.predictor.hidden_channels=32'])
    dino = train_step.main(['--model', 'dino', '--arch', 'vit-small',
                            '--local-crops', '2', '--local-size', '32'] +
                           tiny + ['model.head.out_dim=64',
                                   'model.head.hidden_dim=32',
                                   'model.head.bottleneck_dim=16'])
    capsys.readouterr()
    (m,), (d,) = moco['results'], dino['results']
    assert m['views'] == [[2, 64]] and d['views'] == [[2, 64], [2, 32]]
    for r in (m, d):
        assert r['img_per_s'] > 0 and r['flops_per_img'] > 0
    # DINO's student sees 2 global + 2 local crops: more FLOPs than the
    # same batch with no local crop
    no_local = train_step.main(['--model', 'dino', '--arch', 'vit-small',
                                '--local-crops', '0'] +
                               tiny + ['model.head.out_dim=64',
                                       'model.head.hidden_dim=32',
                                       'model.head.bottleneck_dim=16'])
    capsys.readouterr()
    assert no_local['flops_per_img'] < d['flops_per_img']


def test_gemm_shapes_records_every_linear_layer_of_the_step(capsys):
    gemm_shapes.main(['--model', 'finetune', '--gemm-seconds', '0.005',
                      '--patch-embed', 'conv'] + TINY)
    out = last_json(capsys)
    # qkv, proj, fc1, fc2 (12 D^2 per token) and the 1000-way head, each
    # forward, input grad and weight grad; the patch conv and the fused
    # attention kernel are not GEMMs
    B, N, D = 2, 5, 32
    expected = 3 * B * (2 * N * D * 12 * D + 2 * D * 1000)
    assert sum(r['flops'] * r['calls'] for r in out['gemms']) == expected
    assert 0.5 < out['gemm_share_of_step_flops'] < 1
    assert all(r['s_per_call'] > 0 and r['rate_vs_peak'] > 0
               for r in out['gemms'])
    assert 0 < out['gemm_alone_s'] and 0 < out['step_s']


def test_merged_groups_keep_every_parameters_settings():
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'))
    cfg.model.backbone.update(depth=2, embed_dim=32, num_heads=2)
    model = MODELS.build(cfg.model)
    plain_cfg = cfg.optim_wrapper.copy()
    plain_cfg['constructor'] = 'DefaultOptimWrapperConstructor'
    plain = build_optim_wrapper(model, plain_cfg)
    merged_cfg = cfg.optim_wrapper.copy()
    merged_cfg['constructor'] = 'MergedGroupsOptimWrapperConstructor'
    merged = build_optim_wrapper(model, merged_cfg)

    def settings(ow):
        return {id(p): {k: v for k, v in g.items() if k != 'params'}
                for g in ow.optimizer.param_groups for p in g['params']}
    assert settings(merged) == settings(plain)
    assert len(merged.optimizer.param_groups) < 5 < len(
        plain.optimizer.param_groups)


# ----------------------------------------------------- reduced JPEG decode
@pytest.fixture
def photo_files(tmp_path):
    from sklearn.datasets import load_sample_images
    china = load_sample_images().images[0]  # 427 x 640 RGB photo
    jpg, png = str(tmp_path / 'china.jpg'), str(tmp_path / 'china.png')
    cv2.imwrite(jpg, cv2.cvtColor(china, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90])
    cv2.imwrite(png, cv2.cvtColor(china, cv2.COLOR_RGB2BGR))
    return jpg, png


def test_jpeg_size_reads_the_frame_header(photo_files):
    jpg, png = photo_files
    with open(jpg, 'rb') as f:
        assert jpeg_size(f.read()) == (427, 640)
    with open(png, 'rb') as f:
        assert jpeg_size(f.read()) is None


def test_lazy_load_then_crop_matches_full_decode(photo_files):
    jpg, png = photo_files
    rrc = RandomResizedCrop(64, scale=(0.5, 1.0))
    lazy = LoadImage(lazy=True)({'img_path': jpg})
    assert isinstance(lazy['img'], PendingJpeg)
    assert lazy['ori_shape'] == (427, 640)
    assert rrc.decode_factor(213, 213) == 2
    assert rrc.decode_factor(127, 400) == 1
    full_img = LoadImage()({'img_path': jpg})['img']
    for seed in range(5):
        random.seed(seed)
        top, left, ch, cw = rrc.get_params(427, 640)
        f = rrc.decode_factor(ch, cw)
        random.seed(seed)
        fast = rrc(LoadImage(lazy=True)({'img_path': jpg}))['img']
        assert fast.shape == (64, 64, 3) and fast.dtype == np.uint8
        # the same picture as a full decode of the crop box snapped to the
        # f-pixel grid of the reduced decode (the box moves < f pixels)
        t, lft, h, w = (v // f * f for v in (top, left, ch, cw))
        ref = cv2.resize(full_img[t:t + h, lft:lft + w], (64, 64),
                         interpolation=cv2.INTER_AREA)
        diff = np.abs(fast.astype(int) - ref.astype(int)).mean()
        assert f > 1 and diff < 5, (f, diff)  # unsnapped: ~12
    # PNGs have no reduced decode: decoded at once
    assert isinstance(LoadImage(lazy=True)({'img_path': png})['img'],
                      np.ndarray)


def test_pending_jpeg_refuses_other_transforms(photo_files):
    pending = LoadImage(lazy=True)({'img_path': photo_files[0]})['img']
    with pytest.raises(TypeError, match='RandomResizedCrop'):
        pending[:10]


def test_data_pipeline_benchmark_runs_on_written_files(tmp_path, capsys,
                                                       photo_files):
    photos = tmp_path / 'data' / 'photos'
    photos.mkdir(parents=True)
    img = cv2.imread(photo_files[0])
    for i in range(2):
        cv2.imwrite(str(photos / f'p{i}.jpg'), img)
    out = data_pipeline.main(['--data', str(tmp_path / 'data'),
                              '--repeats', '1', '--min-seconds', '0'])
    assert last_json(capsys)['img_per_s'] == pytest.approx(out['img_per_s'])
    names = {r['pipeline'] for r in out['results']}
    assert names == {'torchvision_default', 'easymae',
                     'easymae_reduced_decode'}
    assert all(r['img_per_s'] > 0 for r in out['results'])


def test_lazy_load_of_a_truncated_jpeg_fails_naming_the_file(photo_files,
                                                             tmp_path):
    from easymae.datasets.transforms.loading import BadImageError
    with open(photo_files[0], 'rb') as f:
        data = f.read()
    bad = tmp_path / 'truncated.jpg'
    bad.write_bytes(data[:len(data) // 2])  # header intact, pixels cut
    results = LoadImage(lazy=True)({'img_path': str(bad)})
    with pytest.raises(BadImageError, match='truncated.jpg'):
        RandomResizedCrop(32, scale=(0.9, 1.0))(results)


def test_breakdown_categories_sum_to_the_profiled_total(capsys):
    from types import SimpleNamespace as Event
    root = Event(name='Optimizer.step#AdamW.step', cpu_parent=None,
                 self_cpu_time_total=5.0)
    pe = Event(name=train_step.PATCH_EMBED_LABEL, cpu_parent=None,
               self_cpu_time_total=1.0)
    events = [root, pe,
              Event(name='aten::_fused_adamw_', cpu_parent=root,
                    self_cpu_time_total=20.0),
              Event(name='aten::mm', cpu_parent=pe, self_cpu_time_total=3.0),
              Event(name='aten::mm', cpu_parent=None,
                    self_cpu_time_total=40.0),
              Event(name='aten::copy_', cpu_parent=None,
                    self_cpu_time_total=7.0),
              Event(name='aten::gelu', cpu_parent=None,
                    self_cpu_time_total=4.0),
              Event(name='aten::empty', cpu_parent=None,
                    self_cpu_time_total=0.5)]
    bd = train_step.breakdown_of_events(events)
    assert sum(bd.values()) == pytest.approx(80.5)
    assert bd == dict(gemm=40.0, **{'casts/copies': 7.0}, attention=0.0,
                      elementwise=4.0, optimizer=25.0,
                      **{'patch embedding': 4.0, 'data preprocessing': 0.0},
                      other=0.5)

    # a real (tiny) run: bf16 with fp32 masters (fp32 on a CPU that
    # refuses bf16), every category reported
    amp = [] if NO_BF16 else ['--amp', 'bf16-master']
    out = train_step.main(['--model', 'mae', *amp, '--breakdown',
                           '--no-flops'] + TINY + TINY_MAE)
    capsys.readouterr()
    (res,) = out['results']
    bd = res['breakdown']
    assert set(bd['ms_per_step']) == set(train_step.BREAKDOWN)
    assert sum(bd['ms_per_step'].values()) == pytest.approx(
        bd['total_ms_per_step'])
    assert sum(bd['share'].values()) == pytest.approx(1.0)
    assert bd['ms_per_step']['gemm'] > 0
    assert out['machine']['cpu_matrix'] in ('amx', 'avx512_bf16', 'none',
                                            'unknown')
