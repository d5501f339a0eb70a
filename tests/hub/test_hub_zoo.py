"""Zoo index, get_model / list_models, features, publish, and safety of
every entry point, against a real HTTP server on 127.0.0.1."""
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys

import pytest
import torch
from hub_server import HubServer

import easymae
from easymae.hub import (
    HashMismatchError,
    UnsafeCheckpointError,
    load_checkpoint,
    load_zoo,
)
from easymae.hub.publish import publish
from easymae.hub.zoo import verified_by
from easymae.models.backbones.vision_transformer import VisionTransformer

REPO = pathlib.Path(__file__).resolve().parents[2]
PY = sys.executable
TINY = dict(type='VisionTransformer', arch='tiny', img_size=16, patch_size=4,
            embed_dim=32, depth=2, num_heads=2)


class Evil:
    """Unpickling this creates the marker file: code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def tiny_official_bytes(seed=0):
    torch.manual_seed(seed)
    vit = VisionTransformer(**{k: v for k, v in TINY.items() if k != 'type'})
    buffer = io.BytesIO()
    torch.save({'model': dict(vit.state_dict(),
                              mask_token=torch.zeros(1, 1, 8))}, buffer)
    return buffer.getvalue(), vit


def write_index(path, url, data, sha256=None, name='tiny-mae'):
    entry = dict(urls=[url], sha256=sha256 or hashlib.sha256(data).hexdigest(),
                 size=len(data), layout='mae-official', holds_decoder=True,
                 norm_pix=True, epochs=1, task='pretrain', metric={},
                 config=None, model=TINY)
    path.write_text(json.dumps({'models': {name: entry}}))
    return str(path)


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    data, vit = tiny_official_bytes()
    marker = tmp_path / 'PWNED'
    buffer = io.BytesIO()
    torch.save({'model': {'x': torch.zeros(1)}, 'evil': Evil(marker)},
               buffer)
    evil = buffer.getvalue()
    monkeypatch.setenv('EASYMAE_HOME', str(tmp_path / 'home'))
    with HubServer({'tiny.pth': data, 'evil.pth': evil}) as srv:
        index = write_index(tmp_path / 'zoo.json', f'{srv.url}/files/tiny.pth',
                            data)
        monkeypatch.setenv('EASYMAE_ZOO_INDEX', index)
        yield dict(server=srv, vit=vit, marker=marker, tmp=tmp_path,
                   index=index, evil_url=f'{srv.url}/files/evil.pth')


def test_shipped_zoo_is_complete_and_honest():
    models = load_zoo(str(REPO / 'easymae' / 'hub' / 'zoo.json'))
    for size in ('base', 'large', 'huge'):
        names = [n for n in models if f'vit-{size}' in n]
        assert any(n.endswith('-pretrain') for n in names)
        assert any(n.endswith('-finetuned') for n in names)
    for name, e in models.items():
        assert e['urls'][0].startswith('https://dl.fbaipublicfiles.com/mae/')
        assert e['layout'] == 'mae-official'
        assert isinstance(e['holds_decoder'], bool)
        # no hash published: said so explicitly, and what is checked then
        if e['sha256'] is None:
            assert 'not published' in e['sha256_note']
            assert 'not published' in e['size_note'] or e['size']
            assert verified_by(e)[-1] == 'loads as a safe checkpoint'
        else:
            assert len(e['sha256']) == 64 and verified_by(e) == ['sha256']
        if e['config']:
            assert (REPO / e['config']).is_file(), e['config']
    base = models['mae_vit-base-p16_in1k-pretrain']
    assert base['md5'] == '8cad7c' and base['epochs'] == 1600
    assert verified_by(base)[0] == 'md5 prefix 8cad7c'
    assert models['mae_vit-huge-p14_in1k-finetuned']['md5'] == '2541f2'
    assert models['mae_vit-base-p16_in1k-visualize']['md5'] is None
    assert models['mae_vit-base-p16_in1k-pretrain-full']['holds_decoder']


def test_get_model_downloads_once_and_loads_weights(zoo):
    assert easymae.list_models() == ['tiny-mae']
    model = easymae.get_model('tiny-mae')
    for k, v in zoo['vit'].state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    assert not model.training
    n = len(zoo['server'].requests)
    easymae.get_model('tiny-mae')  # cache hit
    assert len(zoo['server'].requests) == n == 1
    # and the checkpoint by name through the hub
    assert 'model' in load_checkpoint('tiny-mae')
    with pytest.raises(KeyError, match="'tiny' is not in the model zoo.*"
                       "did you mean tiny-mae"):
        easymae.get_model('tiny')


def test_zoo_hash_mismatch_refused(zoo, tmp_path):
    data, _ = tiny_official_bytes()
    index = write_index(tmp_path / 'bad.json',
                        f"{zoo['server'].url}/files/tiny.pth", data,
                        sha256='f' * 64, name='bad')
    with pytest.raises(HashMismatchError, match='f' * 64):
        easymae.get_model('bad', index=index)
    assert not list((zoo['tmp'] / 'home').rglob('tiny.pth'))


def test_extract_features_pooled_and_patch(zoo):
    model = easymae.get_model('tiny-mae')
    images = torch.randint(0, 256, (3, 3, 24, 24), dtype=torch.uint8)
    pooled = easymae.extract_features(model, images)
    patch = easymae.extract_features(model, images, kind='patch')
    assert pooled.shape == (3, 32) and patch.shape == (3, 16, 32)
    # same as the model's own forward on the resized, normalised batch
    x = torch.nn.functional.interpolate(images.float(), size=(16, 16),
                                        mode='bilinear', align_corners=False)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = model((x - mean) / std)
    assert torch.allclose(pooled, want, atol=1e-5)
    arrays = [img.permute(1, 2, 0).numpy() for img in images]
    assert torch.allclose(easymae.extract_features(model, arrays), pooled,
                          atol=1e-4)


@pytest.mark.slow
def test_malicious_pickle_never_runs(zoo):
    """Every entry point refuses the file; the marker is never written."""
    evil_path = zoo['tmp'] / 'evil.pth'
    evil_path.write_bytes(zoo['server'].files['evil.pth'])
    marker = zoo['marker']
    # 1. hub load: local path and URL
    for src in (str(evil_path), zoo['evil_url']):
        with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
            load_checkpoint(src)
    # 2. Pretrained init, without a default scope and through the registry
    vit = VisionTransformer(**{k: v for k, v in TINY.items() if k != 'type'},
                            init_cfg=dict(type='Pretrained',
                                          checkpoint=str(evil_path)))
    with pytest.raises(UnsafeCheckpointError):
        vit.init_weights()
    from mmengine.model import initialize
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('easymae'):
        with pytest.raises(UnsafeCheckpointError):
            initialize(vit, dict(type='Pretrained',
                                 checkpoint=zoo['evil_url']))
    # 3. the tools exit non-zero
    env = dict(os.environ)
    for cmd in (['tools/convert_checkpoint.py', str(evil_path),
                 str(zoo['tmp'] / 'out.pth')],
                ['tools/publish_checkpoint.py', str(evil_path), '--out',
                 str(zoo['tmp'] / 'pub')]):
        proc = subprocess.run([PY] + cmd, cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert 'UnsafeCheckpointError' in proc.stderr
        assert 'evil.pth' in proc.stderr
    assert not (zoo['tmp'] / 'out.pth').exists()
    assert not marker.exists()
    # control: the same object *does* run code when unpickled unsafely
    torch.load(evil_path, weights_only=False)
    assert marker.exists()


@pytest.mark.slow
def test_download_tool_and_convert_tool(zoo, tmp_path):
    out = tmp_path / 'dl'
    proc = subprocess.run([PY, 'tools/download.py', 'tiny-mae', '--out',
                           str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip().splitlines()[-1]
    assert path == str(out / 'tiny.pth') and os.path.isfile(path)
    proc = subprocess.run([PY, 'tools/download.py',
                           f"{zoo['server'].url}/files/nothing.pth",
                           '--out', str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and 'HTTP 404' in proc.stderr
    dst = tmp_path / 'tiny_timm.safetensors'
    proc = subprocess.run([PY, 'tools/convert_checkpoint.py', 'tiny-mae',
                           str(dst), '--to', 'timm'], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'layout mae-official' in proc.stdout
    assert 'dropped (pretraining-only: decoder / mask token): mask_token' \
        in proc.stdout
    from safetensors.torch import load_file
    sd = load_file(str(dst))
    assert torch.equal(sd['blocks.1.mlp.fc2.weight'],
                       zoo['vit'].blocks[1].mlp.fc2.weight)


def test_publish_strips_state_and_names_by_hash(zoo, tmp_path):
    vit = zoo['vit']
    ckpt = tmp_path / 'epoch_3.pth'
    state = {'backbone.' + k: v for k, v in vit.state_dict().items()}
    state['neck.mask_token'] = torch.zeros(1, 1, 8)
    torch.save({'state_dict': state, 'meta': {'epoch': 3},
                'optimizer': {'state': {}, 'param_groups': []},
                'message_hub': {'log_scalars': {}}}, ckpt)
    result = publish(str(ckpt), str(tmp_path / 'rel'), name='tiny',
                     also_pth=True)
    files = result['files']
    assert [pathlib.Path(f['path']).suffix for f in files] == \
        ['.safetensors', '.pth']
    for f in files:
        digest = hashlib.sha256(pathlib.Path(f['path']).read_bytes()) \
            .hexdigest()
        assert f['sha256'] == digest
        assert pathlib.Path(f['path']).name.startswith(f'tiny-{digest[:8]}.')
    pth = torch.load(files[1]['path'], weights_only=True)
    assert set(pth) == {'state_dict', 'meta'}  # no optimizer / runner state
    entry = result['entry']
    assert entry['holds_decoder'] and entry['epochs'] == 3
    assert entry['layout'] == 'easymae'
    # the published file loads back into a backbone through the hub
    dst = VisionTransformer(**{k: v for k, v in TINY.items() if k != 'type'},
                            init_cfg=dict(type='Pretrained',
                                          checkpoint=files[0]['path']))
    dst.init_weights()
    assert torch.equal(dst.pos_embed, vit.pos_embed)
