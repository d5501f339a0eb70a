"""Publishing in timm's / the Hugging Face Hub's layout, loading it back
with timm, pushing it and fetching ``hf-hub:`` zoo entries.

Models are tiny ViTs. The Hub is ``tests/hf_server.py``: a real HTTP
server on 127.0.0.1 that ``huggingface_hub`` reaches through
``HF_ENDPOINT`` (read when huggingface_hub is imported, so every Hub call
runs in a fresh process). The real Hub is never contacted.
"""
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys

import pytest
import timm
import torch

import easymae  # noqa: F401 (registers the models)
from easymae.fileio.checkpoint_config import config_to_json
from easymae.hub.hf_folder import write_hf_folder
from easymae.registry import MODELS

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from hf_server import HfServer  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
PY = sys.executable
DIGITS_MEAN = (123.675, 116.28, 103.53)
DIGITS_STD = (58.395, 57.12, 57.375)

CLS_CFG = dict(
    model=dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='tiny', img_size=16,
                      patch_size=4, embed_dim=64, depth=2, num_heads=4,
                      global_pool='avg', pos_embed='learned'),
        head=dict(type='LinearClsHead', num_classes=5),
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=DIGITS_MEAN,
                               std=DIGITS_STD, num_classes=5)),
    train_dataloader=dict(batch_size=8, dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='Digits', split='train', img_size=16))),
    test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='Resize', size=20, interpolation='bilinear'),
        dict(type='CenterCrop', size=16), dict(type='PackInputs')])),
    optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
    train_cfg=dict(max_epochs=4))

MAE_MODEL = dict(
    type='MAE', mask_ratio=0.75,
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=16,
                  patch_size=4, depth=2),
    neck=dict(type='MAEDecoder', decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2),
    head=dict(type='MAEPretrainHead', norm_pix=True))


def _randomise(model):
    gen = torch.Generator().manual_seed(0)
    for p in model.parameters():
        p.data.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return model.eval()


@pytest.fixture(scope='module')
def classifier(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cls')
    model = _randomise(MODELS.build(CLS_CFG['model']))
    ckpt = tmp / 'epoch_4.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'epoch': 4, 'cfg': config_to_json(CLS_CFG),
                         'command': 'python tools/train.py tiny_cls.py',
                         'metrics': {'accuracy/top1': 91.25}}}, ckpt)
    folder = tmp / 'hf'
    result = write_hf_folder(str(ckpt), str(folder), name='tiny-cls')
    return dict(model=model, ckpt=ckpt, folder=folder, result=result)


@pytest.fixture(scope='module')
def mae(tmp_path_factory):
    """An MAE checkpoint that stores no config: sizes come from shapes."""
    tmp = tmp_path_factory.mktemp('mae')
    model = _randomise(MODELS.build(MAE_MODEL))
    ckpt = tmp / 'epoch_2.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 2}},
               ckpt)
    return dict(model=model, ckpt=ckpt)


def _logits(model, x):
    with torch.no_grad():
        return model.head(model.extract_feat(x))


def test_folder_layout_and_config(classifier):
    folder, result = classifier['folder'], classifier['result']
    assert sorted(os.listdir(folder)) == ['README.md', 'config.json',
                                          'model.safetensors']
    cfg = json.loads((folder / 'config.json').read_text())
    assert cfg['architecture'] == result['architecture'] and \
        timm.is_model(cfg['architecture'])
    assert cfg['num_classes'] == 5 and cfg['global_pool'] == 'avg'
    args = cfg['model_args']
    assert (args['img_size'], args['patch_size'], args['embed_dim'],
            args['depth'], args['num_heads']) == (16, 4, 64, 2, 4)
    pre = cfg['pretrained_cfg']
    # timm's 0..1 scale, from the data preprocessor's 0..255 one
    assert pre['mean'] == pytest.approx([m / 255 for m in DIGITS_MEAN])
    assert pre['std'] == pytest.approx([s / 255 for s in DIGITS_STD])
    assert pre['input_size'] == [3, 16, 16]
    assert pre['crop_pct'] == pytest.approx(0.8)  # CenterCrop 16 of 20
    assert pre['interpolation'] == 'bilinear'
    from safetensors.torch import load_file
    sd = load_file(str(folder / 'model.safetensors'))
    assert 'head.weight' in sd and 'fc_norm.weight' in sd
    assert not any(k.startswith(('backbone.', 'neck.')) for k in sd)


def test_timm_local_dir_gives_our_logits(classifier):
    x = torch.randn(3, 3, 16, 16)
    ours = _logits(classifier['model'], x)
    model = timm.create_model(f"local-dir:{classifier['folder']}",
                              pretrained=True).eval()
    with torch.no_grad():
        theirs = model(x)
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-5)
    data = timm.data.resolve_data_config({}, model=model)
    assert data['input_size'] == (3, 16, 16)
    assert data['mean'] == pytest.approx([m / 255 for m in DIGITS_MEAN])


def test_timm_architecture_name_with_file_overlay(classifier):
    result = classifier['result']
    model = timm.create_model(
        result['architecture'], pretrained=True,
        pretrained_cfg_overlay=dict(
            file=str(classifier['folder'] / 'model.safetensors'),
            custom_load=False, num_classes=5),
        **result['model_args']).eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _logits(classifier['model'], x),
                                   rtol=1e-5, atol=1e-5)


def test_model_card(classifier):
    card = (classifier['folder'] / 'README.md').read_text()
    assert card.startswith('---\nlibrary_name: timm\n')
    assert 'Digits' in card and "split='train'" in card  # the data
    assert 'AdamW' in card and 'epochs: 4' in card       # the recipe
    assert '| accuracy/top1 | 91.25 |' in card           # kept metrics
    assert 'python tools/train.py tiny_cls.py' in card   # trained with
    assert classifier['result']['architecture'] in card


def test_mae_encoder_features_match_without_stored_config(mae, tmp_path):
    folder = tmp_path / 'hf'
    result = write_hf_folder(str(mae['ckpt']), str(folder))
    assert result['architecture'] == 'vit_tiny_patch16_224'
    assert result['model_args']['num_classes'] == 0
    assert result['model_args']['global_pool'] == 'token'
    from safetensors.torch import load_file
    sd = load_file(str(folder / 'model.safetensors'))
    assert not any('decoder' in k or 'mask_token' in k for k in sd)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        ours = mae['model'].backbone(x)
        theirs = timm.create_model(f'local-dir:{folder}',
                                   pretrained=True).eval()(x)
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-5)
    card = (folder / 'README.md').read_text()
    assert 'image-feature-extraction' in card
    assert 'No evaluation was recorded' in card


def _hub_env(server, tmp_path, token=None):
    env = dict(os.environ, HF_ENDPOINT=server.endpoint,
               HF_HOME=str(tmp_path / 'hf_home'),
               EASYMAE_HOME=str(tmp_path / 'easymae_home'),
               HF_HUB_DISABLE_TELEMETRY='1', HF_HUB_OFFLINE='0',
               EASYMAE_OFFLINE='0', PYTHONPATH=str(REPO))
    env.pop('HF_TOKEN', None)
    if token:
        env['HF_TOKEN'] = token
    return env


@pytest.mark.slow
def test_tool_push_then_timm_hf_hub_loads_it(classifier, tmp_path):
    with HfServer(token='hf_loopback') as server:
        env = _hub_env(server, tmp_path, token='hf_loopback')
        proc = subprocess.run(
            [PY, 'tools/publish_checkpoint.py', str(classifier['ckpt']),
             '--out', str(tmp_path / 'rel'), '--name', 'tiny-cls',
             '--push', 'org/tiny-cls', '--metric', 'accuracy/top1=90.5'],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert 'pushed to org/tiny-cls' in proc.stdout
        assert not server.unknown
        files = server.repos['org/tiny-cls']
        assert set(files) == {'README.md', 'config.json',
                              'model.safetensors'}
        card = files['README.md'].decode()
        assert "timm.create_model('hf-hub:org/tiny-cls'" in card
        assert '| accuracy/top1 | 90.5 |' in card
        assert '--push org/tiny-cls' in card  # how it was published
        x = torch.randn(2, 3, 16, 16, generator=torch.Generator()
                        .manual_seed(1))
        torch.save(x, tmp_path / 'x.pt')
        script = ('import sys, timm, torch\n'
                  "m = timm.create_model('hf-hub:org/tiny-cls', "
                  'pretrained=True).eval()\n'
                  'with torch.no_grad():\n'
                  '    y = m(torch.load(sys.argv[1]))\n'
                  'torch.save(y, sys.argv[2])\n')
        proc = subprocess.run([PY, '-c', script, str(tmp_path / 'x.pt'),
                               str(tmp_path / 'y.pt')], env=env,
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
    torch.testing.assert_close(torch.load(tmp_path / 'y.pt'),
                               _logits(classifier['model'], x),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_push_without_token_is_one_error_line(classifier, tmp_path):
    with HfServer() as server:
        env = _hub_env(server, tmp_path)
        proc = subprocess.run(
            [PY, 'tools/publish_checkpoint.py', str(classifier['ckpt']),
             '--out', str(tmp_path / 'rel'), '--push', 'org/x'],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 1
        assert 'no Hugging Face token' in proc.stderr
        assert not server.requests  # nothing was sent
    # the folder is written all the same, ready for a later push
    assert (tmp_path / 'rel' / 'epoch_4-hf' / 'config.json').is_file()


ZOO_SCRIPT = """
import json, os, sys
from easymae.hub.zoo import fetch
out = []
for name, offline in json.loads(sys.argv[2]):
    os.environ['EASYMAE_OFFLINE'] = '1' if offline else '0'
    try:
        out.append(['ok', fetch(name, index=sys.argv[1])])
    except Exception as e:
        out.append([type(e).__name__, str(e)])
print(json.dumps(out))
"""


@pytest.fixture(scope='module')
def zoo_runs(classifier, tmp_path_factory):
    """One process fetches the zoo's hf-hub: entries in turn (importing
    huggingface_hub once): a good file twice, then offline; a file whose
    sha256 is wrong twice; a pickle that would run code."""
    tmp = tmp_path_factory.mktemp('zoo')
    good = (classifier['folder'] / 'model.safetensors').read_bytes()

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))
    buffer = io.BytesIO()
    torch.save({'state_dict': {}, 'x': Evil()}, buffer)
    evil = buffer.getvalue()
    common = dict(layout='timm', holds_decoder=False, norm_pix=None,
                  epochs=4, task='finetune', model={})
    entries = {
        'good': dict(common, urls=['hf-hub:org/good'],
                     sha256=hashlib.sha256(good).hexdigest()),
        'bad': dict(common, urls=['hf-hub:org/bad@v1'], sha256='0' * 64),
        'evil': dict(common, urls=['hf-hub:org/evil'], filename='evil.pth',
                     sha256=None),
    }
    index = tmp / 'zoo.json'
    index.write_text(json.dumps({'models': entries}))
    calls = [['good', False], ['good', False], ['good', True],
             ['bad', False], ['bad', False], ['evil', False]]
    repos = {'org/good': {'model.safetensors': good},
             'org/bad': {'model.safetensors': good},
             'org/evil': {'evil.pth': evil}}
    with HfServer(repos) as server:
        proc = subprocess.run([PY, '-c', ZOO_SCRIPT, str(index),
                               json.dumps(calls)],
                              env=_hub_env(server, tmp), capture_output=True,
                              text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return dict(results=json.loads(proc.stdout.strip().splitlines()[-1]),
                gets=[p for m, p in server.requests if m == 'GET'],
                tmp=tmp, good=good, stdout=proc.stdout + proc.stderr)


def test_zoo_hf_hub_entry_fetched_verified_and_cached(zoo_runs):
    (s1, p1), (s2, p2), (s3, p3) = zoo_runs['results'][:3]
    assert s1 == s2 == s3 == 'ok' and p1 == p2 == p3
    assert p1.startswith(str(zoo_runs['tmp'] / 'easymae_home' / 'hf'))
    assert pathlib.Path(p1).read_bytes() == zoo_runs['good']
    # downloaded once; the second call and the offline one use the cache
    assert zoo_runs['gets'].count(
        '/org/good/resolve/main/model.safetensors') == 1


def test_zoo_hf_hub_sha256_mismatch_is_refused_and_forgotten(zoo_runs):
    for status, message in zoo_runs['results'][3:5]:
        assert status == 'HashMismatchError'
        assert 'sha256 mismatch' in message
    # refused both times, never served from the Hub cache: fetched twice
    assert zoo_runs['gets'].count(
        '/org/bad/resolve/v1/model.safetensors') == 2


def test_zoo_hf_hub_unsafe_file_is_refused(zoo_runs):
    status, message = zoo_runs['results'][5]
    assert status == 'UnsafeCheckpointError'
    assert 'pwned' not in zoo_runs['stdout']
