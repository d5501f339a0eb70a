"""Using a model after training: tools/predict.py / easymae.inference and
tools/export.py, on a real (tiny, briefly) finetuned digits classifier, the
embedded held-out digits written as PNG files, and the shared photos."""
import glob
import importlib.util
import json
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from flip_utils import tiny_flip_cfg

import easymae
from easymae.datasets.sources import Digits
from easymae.evaluation.zero_shot import build_zero_shot_weights
from easymae.fileio.checkpoint_config import config_to_json
from easymae.hub.export import (
    ExportError,
    export_model,
    input_spec,
    max_abs_difference,
    normalise,
    run_exported,
)
from easymae.predict import (
    ConfigNameError,
    find_config,
    load_predictor,
    model_from_checkpoint,
)
from easymae.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRATCH = ('configs/classification/mae/'
           'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def finetuned(tmp_path_factory):
    """(checkpoint, the config the run dumped): a 1-block 32-d ViT trained
    2 epochs without mixup on half the digits' train source (about 720
    images) by tools/train.py, to well above chance (~33% top-1).
    The held-out 'val' split (the first 20% of each class) stays disjoint
    (see test_finetune_chain).
    """
    work = tmp_path_factory.mktemp('finetune')
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', SCRATCH, '--work-dir', str(work),
         '--cfg-options', 'train_cfg.max_epochs=2', 'warmup_epochs=1',
         'train_cfg.val_interval=10', 'default_hooks.checkpoint.interval=2',
         'train_dataloader.dataset.data_source.val_fraction=0.5',
         'train_dataloader.batch_size=32', 'optim_wrapper.optimizer.lr=4e-2',
         'model.data_preprocessor.mixup=None',
         'model.backbone.embed_dim=32', 'model.backbone.depth=1',
         'model.backbone.num_heads=2'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    config = osp.join(work, osp.basename(SCRATCH))
    return str(work / 'epoch_2.pth'), config


@pytest.fixture(scope='module')
def digit_files(tmp_path_factory):
    """The held-out digits as PNG files, ``<label>/<index>.png``."""
    root = tmp_path_factory.mktemp('digits_png')
    for i, sample in enumerate(Digits('val', img_size=32)):
        folder = root / str(sample['gt_label'])
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f'{i:03d}.png'),
                    cv2.cvtColor(sample['img'], cv2.COLOR_RGB2BGR))
    return str(root)


@pytest.fixture
def photo_folder(shared_data, tmp_path):
    """The shared photos (JPEGs), plus a file that is not an image."""
    folder = tmp_path / 'photos'
    folder.mkdir()
    for path in sorted(glob.glob(osp.join(shared_data, 'photos', '*.jpg'))):
        shutil.copy(path, folder)
    (folder / 'broken.jpg').write_bytes(b'this is not a JPEG')
    return str(folder)


def test_finetune_checkpoint_stores_class_names(finetuned):
    ckpt = torch.load(finetuned[0], weights_only=True)
    assert ckpt['meta']['dataset_meta']['classes'] == [str(i)
                                                       for i in range(10)]


def test_predicted_digits_give_test_tool_accuracy(finetuned, digit_files,
                                                  tmp_path):
    ckpt, config = finetuned
    metrics = load_tool('test').main([config, ckpt, '--work-dir',
                                      str(tmp_path / 'test')])
    top1 = next(v for k, v in metrics.items() if 'top1' in k)
    out = tmp_path / 'pred.jsonl'
    # the checkpoint's own config ('-'), batches that do not divide 359
    assert load_tool('predict').cli(['-', ckpt, digit_files, '--out',
                                     str(out), '--batch-size', '50',
                                     '--no-progress']) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(Digits('val'))
    assert not any('error' in r for r in records)
    labels = [osp.basename(osp.dirname(r['image'])) for r in records]
    hits = [r['pred_class'] == y for r, y in zip(records, labels)]
    # the metric computes in float32: same hit count, ~1e-6 apart
    assert 100.0 * sum(hits) / len(hits) == pytest.approx(top1, abs=1e-4)
    # a model that learned: not one constant class, well above chance
    assert len({r['pred_class'] for r in records}) > 3 and top1 > 25


def test_predict_photos_lists_the_bad_file_and_does_the_rest(
        finetuned, photo_folder, tmp_path, capsys):
    ckpt, config = finetuned
    out, feats = tmp_path / 'r.jsonl', tmp_path / 'f.npy'
    assert load_tool('predict').cli(
        [config, ckpt, photo_folder, '--topk', '3', '--out', str(out),
         '--features', str(feats), '--device', 'cpu',
         '--batch-size', '2']) == 0
    err = capsys.readouterr().err
    assert 'broken.jpg' in err and 'could not be read' in err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    bad = [r for r in records if 'error' in r]
    good = [r for r in records if 'error' not in r]
    assert [osp.basename(r['image']) for r in bad] == ['broken.jpg']
    assert 'cannot decode' in bad[0]['error']
    assert len(good) == 5
    for r in good:
        scores = [t['score'] for t in r['topk']]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
        assert all(t['class'] == str(t['label']) for t in r['topk'])
    rows = np.load(feats)
    assert rows.shape == (5, 32) and np.isfinite(rows).all()
    assert [r['feature_row'] for r in good] == list(range(5))
    names = (tmp_path / 'f.npy.images.txt').read_text().split()
    assert names == [r['image'] for r in good]


def test_inference_api_matches_the_model_on_arrays(finetuned):
    """Arrays and files give the same scores as the model's own predict on
    the data preprocessor's output."""
    ckpt, _ = finetuned
    src = Digits('val', img_size=32)
    imgs = [src[i]['img'] for i in range(5)]
    results = easymae.inference(ckpt, imgs, topk=10, device='cpu')
    model, _, _ = model_from_checkpoint(ckpt)
    batch = torch.stack([torch.from_numpy(im).permute(2, 0, 1)
                         for im in imgs])
    inputs = model.data_preprocessor(dict(inputs=batch), False)['inputs']
    expected = torch.stack([r['pred_score'] for r in model.predict(inputs)])
    for r, row in zip(results, expected):
        got = torch.zeros(10)
        for t in r['topk']:
            got[t['label']] = t['score']
        assert torch.allclose(got, row, atol=1e-6)


def test_checkpoint_without_class_names_prints_indices(finetuned, tmp_path,
                                                       capsys):
    ckpt = torch.load(finetuned[0], weights_only=True)
    del ckpt['meta']['dataset_meta']
    bare = tmp_path / 'no_classes.pth'
    torch.save(ckpt, bare)
    img = tmp_path / 'digit.png'
    cv2.imwrite(str(img), Digits('val')[0]['img'])
    assert load_tool('predict').cli(['-', str(bare), str(img),
                                     '--no-progress']) == 0
    captured = capsys.readouterr()
    assert 'stores no class names' in captured.err
    with pytest.warns(UserWarning, match='stores no class names'):
        r = easymae.inference(str(bare), str(img), topk=2)[0]
    assert r['pred_class'] is None and isinstance(r['pred_label'], int)


def test_config_names_resolve_or_list_candidates(finetuned, tmp_path,
                                                 capsys):
    assert find_config('vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits') \
        == osp.join(ROOT, SCRATCH)
    with pytest.raises(ConfigNameError, match=r'matches \d+ configs.*'
                       'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py'):
        find_config('vit-tiny-d6-p4')
    with pytest.raises(ConfigNameError, match='closest: .*digits'):
        find_config('vit-tiny-d6-p4_scratch_digitz_nothing')
    img = tmp_path / 'digit.png'
    cv2.imwrite(str(img), Digits('val')[0]['img'])
    assert load_tool('predict').cli(['mae_vit', finetuned[0],
                                     str(img)]) == 1
    assert 'matches' in capsys.readouterr().err


def _save_checkpoint(model, cfg, path, **meta):
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(cfg=config_to_json(cfg), **meta)}, path)


def test_zero_shot_with_given_class_names(tmp_path):
    torch.manual_seed(0)
    cfg = dict(model=tiny_flip_cfg())
    model = MODELS.build(cfg['model']).eval()
    ckpt = tmp_path / 'flip.pth'
    _save_checkpoint(model, cfg, ckpt)
    names = ['cat', 'dog', 'handwritten digit']
    (tmp_path / 'classes.txt').write_text('\n'.join(names) + '\n')
    src = Digits('val', img_size=16)
    imgs = [src[i]['img'] for i in range(4)]
    results = easymae.inference(str(ckpt), imgs, topk=3,
                                classes=str(tmp_path / 'classes.txt'))
    # the same by hand: class embeddings, image embeddings, softmax
    weights = build_zero_shot_weights(model, names, 'simple')
    x = model.data_preprocessor(dict(inputs=torch.stack(
        [torch.from_numpy(im).permute(2, 0, 1) for im in imgs])),
        False)['inputs']
    with torch.no_grad():
        expected = (model.get_logit_scale() * model.extract_image_feat(x)
                    @ weights.t()).softmax(-1)
    for r, row in zip(results, expected):
        assert {t['class'] for t in r['topk']} == set(names)
        for t in r['topk']:
            assert t['score'] == pytest.approx(float(row[t['label']]),
                                               abs=1e-5)
    with pytest.raises(ValueError, match='no class names were given'):
        easymae.inference(str(ckpt), imgs)
    feats = easymae.inference(str(ckpt), imgs, features=True)
    assert feats[0]['features'].shape == (16, )


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
def test_predict_on_gpu_matches_cpu(finetuned):
    src = Digits('val', img_size=32)
    imgs = [src[i]['img'] for i in range(8)]
    cpu = easymae.inference(finetuned[0], imgs, topk=3, device='cpu')
    gpu = easymae.inference(finetuned[0], imgs, topk=3, device='cuda')
    for a, b in zip(cpu, gpu):
        assert a['pred_label'] == b['pred_label']
        assert a['pred_score'] == pytest.approx(b['pred_score'], abs=1e-4)


# ------------------------------------------------------------------ export
def _real_batch(predictor, n, shared=None):
    if shared:
        files = sorted(glob.glob(osp.join(shared, 'photos', '*.jpg')))[:n]
        return torch.stack([predictor.load(f) for f in files])
    src = Digits('val', img_size=32)
    return torch.stack([predictor.load(src[i]['img']) for i in range(n)])


@pytest.mark.parametrize('fmt', ['onnx', 'torchscript'])
@pytest.mark.parametrize('part', ['classifier', 'encoder'])
def test_export_runs_like_pytorch_on_real_images(finetuned, tmp_path, fmt,
                                                 part, capsys):
    if fmt == 'onnx':
        pytest.importorskip('onnxruntime')
    ckpt, _ = finetuned
    out = tmp_path / f'model.{fmt}'
    assert load_tool('export').cli([ckpt, '--format', fmt, '--part', part,
                                    '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'max abs difference to PyTorch' in printed
    info = json.loads((tmp_path / f'model.{fmt}.json').read_text())
    assert info['check']['max_abs_diff'] <= 1e-4
    assert info['opset'] == (17 if fmt == 'onnx' else None)
    assert info['input']['shape'] == ['batch', 3, 32, 32]
    assert info['input']['channel_order'] == 'RGB'
    assert info['input']['mean'] == [123.675, 116.28, 103.53]
    assert info['output']['shape'][1] == (10 if part == 'classifier'
                                          else 32)
    # dynamic batch: exported at 2, run at 3 on other real images
    predictor = load_predictor(ckpt, device='cpu')
    x = normalise(_real_batch(predictor, 3), input_spec(predictor.model))
    assert run_exported(str(out), fmt, x).shape[0] == 3
    from easymae.hub.export import graph_of
    diff = max_abs_difference(str(out), fmt,
                              graph_of(predictor.model, part), x)
    print(f'{fmt} {part}: max abs diff {diff:.3g}')
    assert diff <= 1e-4


def test_export_on_photos_at_another_batch(finetuned, shared_data, tmp_path):
    pytest.importorskip('onnxruntime')
    predictor = load_predictor(finetuned[0], device='cpu')
    model = predictor.model
    spec = input_spec(model)
    x = normalise(_real_batch(predictor, 5, shared_data), spec)
    # the spec's normalisation is the data preprocessor's
    raw = _real_batch(predictor, 5, shared_data)
    assert torch.allclose(
        x, model.data_preprocessor(dict(inputs=raw), False)['inputs'],
        atol=1e-5)
    for fmt in ('onnx', 'torchscript'):
        path = str(tmp_path / f'm.{fmt}')
        graph = export_model(model, path, fmt, 'classifier', example=x[:2])
        assert max_abs_difference(path, fmt, graph, x) <= 1e-4


class RealFFTPool(nn.Module):
    """A neck that keeps the magnitude of the features' spectrum: real
    torch code whose operator (aten::fft_rfft) has no ONNX export."""

    def forward(self, x):
        return torch.fft.rfft(x, n=2 * x.shape[-1] - 2).abs()


def test_export_names_the_operator_it_cannot_export(tmp_path):
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', img_size=16, patch_size=4,
                      embed_dim=32, depth=1, num_heads=2,
                      global_pool='avg'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=32)))
    model.neck = RealFFTPool()
    out = tmp_path / 'fft.onnx'
    with pytest.raises(ExportError, match='aten::fft_rfft'):
        export_model(model, str(out), 'onnx')
    assert not out.exists() and not list(tmp_path.iterdir())


def test_export_bad_requests_are_one_line_errors(finetuned, tmp_path,
                                                 capsys):
    flip = MODELS.build(tiny_flip_cfg())
    with pytest.raises(ExportError, match='no classification head'):
        export_model(flip, str(tmp_path / 'f.onnx'), 'onnx', 'classifier')
    tool = load_tool('export')
    assert tool.cli([str(tmp_path / 'missing.pth'), '--format', 'onnx',
                     '--out', str(tmp_path / 'x.onnx')]) == 1
    assert 'checkpoint not found' in capsys.readouterr().err
    assert tool.cli([finetuned[0], '--config', 'no_such_config_anywhere',
                     '--format', 'torchscript',
                     '--out', str(tmp_path / 'x.pt')]) == 1
    assert 'no_such_config_anywhere' in capsys.readouterr().err


def test_published_release_keeps_class_names(finetuned, tmp_path):
    from safetensors import safe_open

    from easymae.hub.publish import publish
    ckpt, config = finetuned
    entry = publish(ckpt, str(tmp_path / 'release'), name='digits',
                    also_pth=True)['entry']
    pth = glob.glob(str(tmp_path / 'release' / '*.pth'))[0]
    released = torch.load(pth, weights_only=True)
    assert released['meta']['classes'] == [str(i) for i in range(10)]
    with safe_open(str(tmp_path / 'release' / entry['filename']),
                   'pt') as f:
        assert json.loads(f.metadata()['classes']) == released['meta'][
            'classes']
    img = tmp_path / 'digit.png'
    cv2.imwrite(str(img), Digits('val')[0]['img'])
    r = easymae.inference(pth, str(img),
                          config=config, topk=1)[0]
    assert r['pred_class'] == str(r['pred_label'])
