"""Every way a checkpoint enters easymae, walked with the same two bad files:

* ``evil.pth``: a pickle whose ``__reduce__`` would create a marker file;
* ``wrong.pth``: a training checkpoint of another model (a 2-tensor MLP).

Each entry point must refuse both with the same clear error (the file named;
``UnsafeCheckpointError`` / ``CheckpointMismatchError``), run nothing, and
do so with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` set, which turns code
execution back on for any ``torch.load`` that leaves ``weights_only`` out.
The fast set calls each tool's ``main`` in-process; the slow set runs each
tool's script as ``__main__`` in a fresh interpreter that has the variable
set from its start. Also here: ``load_from`` converting a foreign encoder,
``--resume`` refusing non-training checkpoints, and configs stored in
checkpoints read as data, never executed.
"""
import hashlib
import importlib.util
import json
import os
import os.path as osp
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from reliab_helpers import write_config

import easymae
from easymae.apis import build_runner, load_config
from easymae.fileio import (
    CheckpointKindError,
    CheckpointMismatchError,
    UnsafeConfigError,
    load_file,
    read_checkpoint_config,
)
from easymae.models.backbones.vision_transformer import VisionTransformer
from easymae.registry import MODELS

REPO = pathlib.Path(__file__).resolve().parents[2]
FINETUNE = REPO / 'configs/classification/mae/' \
    'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py'
FLIP = REPO / 'configs/selfsup/flip/' \
    'flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions.py'
TINY_VIT = dict(img_size=16, patch_size=4, embed_dim=32, depth=2,
                num_heads=2)
TINY_CLS = {f'model.backbone.{k}': v for k, v in TINY_VIT.items()}
TINY_FLIP = {'model.backbone.embed_dim': 32, 'model.backbone.depth': 1,
             'model.backbone.num_heads': 2, 'model.text_backbone.width': 32,
             'model.text_backbone.depth': 1,
             'model.text_backbone.num_heads': 2}
MISMATCH = ('CheckpointMismatchError', 'UnknownLayoutError',
            'ConversionError')


class Evil:
    """Unpickling this creates the marker file: code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def load_tool(relpath):
    spec = importlib.util.spec_from_file_location(
        'tool_' + relpath.replace('/', '_')[:-3], REPO / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def bad(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bad')
    marker = tmp / 'MARKER'
    evil = tmp / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': {'epoch': 1, 'iter': 1}, 'message_hub': {},
                'evil': Evil(marker)}, evil)
    wrong = tmp / 'wrong.pth'
    torch.save({'state_dict': {'fc.weight': torch.randn(4, 4),
                               'fc.bias': torch.zeros(4)},
                'meta': {'epoch': 1, 'iter': 2}, 'message_hub': {},
                'optimizer': {'state': {}, 'param_groups': []}}, wrong)
    image = tmp / 'img.png'
    import cv2
    cv2.imwrite(str(image), np.full((16, 16, 3), 128, np.uint8))
    config = write_config(tmp)
    return dict(tmp=tmp, marker=marker, evil=str(evil), wrong=str(wrong),
                image=str(image), config=config)


@pytest.fixture
def no_weights_only_env(monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')


def assert_refused(excinfo, path, kind):
    assert type(excinfo.value).__name__ in (
        ('UnsafeCheckpointError',) if kind == 'evil' else MISMATCH), \
        repr(excinfo.value)
    assert osp.basename(path) in str(excinfo.value)


# ------------------------------------------------------ in-process walk
def entry_points(bad, tmp_path):
    """name -> function(checkpoint path) that feeds it to the entry point."""

    def train_load_from(path):
        cfg = load_config(bad['config'])
        cfg.load_from = path
        build_runner(cfg, work_dir=str(tmp_path / 'lf')).load_or_resume()

    def init_cfg_pretrained(path):
        vit = VisionTransformer(**TINY_VIT, init_cfg=dict(
            type='Pretrained', checkpoint=path))
        # even under another scope, hub's strict initializer answers
        with DefaultScope.overwrite_default_scope('mmengine'):
            vit.init_weights()

    def resume(path):
        cfg = load_config(bad['config'])
        build_runner(cfg, work_dir=str(tmp_path / 'rs'),
                     resume=path).load_or_resume()

    def test_tool(path):
        load_tool('tools/test.py').main(
            [str(FINETUNE), path, '--work-dir', str(tmp_path / 'test'),
             '--cfg-options'] + [f'{k}={v}' for k, v in TINY_CLS.items()])

    def zero_shot(path):
        load_tool('tools/zero_shot.py').main(
            [str(FLIP), path, '--work-dir', str(tmp_path / 'zs'),
             '--cfg-options'] + [f'{k}={v}' for k, v in TINY_FLIP.items()])

    def visualize(path):
        load_tool('tools/visualize_mae.py').main(
            [path, bad['image'], '--config', bad['config'],
             '--out', str(tmp_path / 'vis')])

    def attention_stats(path):
        load_tool('tools/analysis/attention_stats.py').main(
            [path, '--config', bad['config'], '--num-images', '2',
             '--out', str(tmp_path / 'attn')])

    def layer_similarity(path):
        load_tool('tools/analysis/layer_similarity.py').main(
            [path, path, '--config-a', bad['config'], '--config-b',
             bad['config'], '--num-images', '2',
             '--out', str(tmp_path / 'sim')])

    def get_model(path):
        # a local zoo index whose URL is the file itself (file://): the
        # real fetch, verify and load path, no network
        data = pathlib.Path(path).read_bytes()
        index = tmp_path / 'zoo.json'
        index.write_text(json.dumps({'models': {'tiny': dict(
            urls=[pathlib.Path(path).as_uri()],
            filename='zoo-' + osp.basename(path),
            sha256=hashlib.sha256(data).hexdigest(), size=len(data),
            layout='mae-official', holds_decoder=False, norm_pix=False,
            epochs=1, task='pretrain', metric={}, config=None,
            model=dict(type='VisionTransformer', **TINY_VIT))}}))
        os.environ['EASYMAE_HOME'] = str(tmp_path / 'home')
        try:
            easymae.get_model('tiny', index=str(index), offline=False)
        finally:
            del os.environ['EASYMAE_HOME']

    return dict(train_load_from=train_load_from,
                init_cfg_pretrained=init_cfg_pretrained, resume=resume,
                test_tool=test_tool, zero_shot=zero_shot,
                visualize=visualize, attention_stats=attention_stats,
                layer_similarity=layer_similarity, get_model=get_model)


CLI_RETURNING = {  # tools whose main reports the error and returns 1
    'convert_checkpoint': lambda path, out: load_tool(
        'tools/convert_checkpoint.py').main([path, str(out / 'c.pth')]),
    'publish_checkpoint': lambda path, out: load_tool(
        'tools/publish_checkpoint.py').main([path, '--out',
                                             str(out / 'pub')]),
}


@pytest.mark.parametrize('kind', ['evil', 'wrong'])
@pytest.mark.parametrize('entry', [
    'train_load_from', 'init_cfg_pretrained', 'resume', 'test_tool',
    'zero_shot', 'visualize', 'attention_stats', 'layer_similarity',
    'get_model'])
def test_every_entry_point_refuses(bad, tmp_path, no_weights_only_env,
                                   entry, kind):
    path = bad[kind]
    with pytest.raises(Exception) as excinfo:
        entry_points(bad, tmp_path)[entry](path)
    assert_refused(excinfo, path, kind)
    assert not bad['marker'].exists()


@pytest.mark.parametrize('kind', ['evil', 'wrong'])
@pytest.mark.parametrize('tool', sorted(CLI_RETURNING))
def test_checkpoint_tools_refuse(bad, tmp_path, capsys, no_weights_only_env,
                                 tool, kind):
    assert CLI_RETURNING[tool](bad[kind], tmp_path) == 1
    err = capsys.readouterr().err
    expected = ('UnsafeCheckpointError',) if kind == 'evil' else MISMATCH
    assert any(f'error: {name}' in err for name in expected), err
    assert osp.basename(bad[kind]) in err
    assert not list(tmp_path.rglob('*.pth')) and \
        not list(tmp_path.rglob('*.safetensors'))
    assert not bad['marker'].exists()


def test_the_payload_is_real(bad, tmp_path):
    """Control: the evil file does run code when unpickled unsafely."""
    probe = tmp_path / 'probe.pth'
    marker = tmp_path / 'PROBE'
    torch.save({'x': Evil(marker)}, probe)
    torch.load(probe, weights_only=False)
    assert marker.exists()


# ------------------------------------------------------- real processes
TOOL_COMMANDS = {
    'train': lambda b, p, t: ['tools/train.py', b['config'], '--work-dir',
                              str(t / 'w'), '--cfg-options',
                              f'load_from={p}'],
    'resume': lambda b, p, t: ['tools/train.py', b['config'], '--work-dir',
                               str(t / 'w'), '--resume', p],
    'test': lambda b, p, t: ['tools/test.py', str(FINETUNE), p,
                             '--work-dir', str(t / 'w'), '--cfg-options'] +
    [f'{k}={v}' for k, v in TINY_CLS.items()],
    'zero_shot': lambda b, p, t: ['tools/zero_shot.py', str(FLIP), p,
                                  '--work-dir', str(t / 'w'),
                                  '--cfg-options'] +
    [f'{k}={v}' for k, v in TINY_FLIP.items()],
    'visualize': lambda b, p, t: ['tools/visualize_mae.py', p, b['image'],
                                  '--config', b['config'], '--out',
                                  str(t / 'v')],
    'attention_stats': lambda b, p, t: [
        'tools/analysis/attention_stats.py', p, '--config', b['config'],
        '--num-images', '2', '--out', str(t / 'a')],
    'layer_similarity': lambda b, p, t: [
        'tools/analysis/layer_similarity.py', p, p, '--config-a',
        b['config'], '--config-b', b['config'], '--num-images', '2',
        '--out', str(t / 's')],
    'convert': lambda b, p, t: ['tools/convert_checkpoint.py', p,
                                str(t / 'c.pth')],
    'publish': lambda b, p, t: ['tools/publish_checkpoint.py', p, '--out',
                                str(t / 'pub')],
}


@pytest.mark.slow(seconds=60)
def test_every_tool_script_refuses(bad, tmp_path):
    # every tool's script on the evil checkpoint, and on the one of another
    # layout except where a tool loads exactly as another does (the two
    # analysis tools load as visualize_mae.py does, through
    # easymae.analysis.load_model_from_checkpoint). A fresh interpreter
    # with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 from its start runs each
    # script as __main__ (tests/run_scripts.py): one start instead of 16
    same_loader = ('attention_stats', 'layer_similarity')
    cases = [(tool, kind) for tool in sorted(TOOL_COMMANDS)
             for kind in ('evil', 'wrong')
             if kind == 'evil' or tool not in same_loader]
    commands = []
    for tool, kind in cases:
        work = tmp_path / f'{tool}-{kind}'
        work.mkdir()
        command = TOOL_COMMANDS[tool](bad, bad[kind], work)
        commands.append([command[0], command[1:]])
    (tmp_path / 'cases.json').write_text(json.dumps(commands))
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tests' / 'run_scripts.py'),
         str(tmp_path / 'cases.json'), str(tmp_path / 'results.json')],
        cwd=REPO, env=dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / 'results.json').read_text())
    assert len(results) == len(cases) == 16
    for (tool, kind), result in zip(cases, results):
        case = f'{tool} on the {kind} checkpoint: '
        assert result['returncode'] != 0, case + result['stdout'][-2000:]
        expected = ('UnsafeCheckpointError',) if kind == 'evil' \
            else MISMATCH
        assert any(name in result['stderr'] for name in expected), \
            case + result['stderr'][-3000:]
        assert osp.basename(bad[kind]) in result['stderr'], \
            case + result['stderr']
    assert not bad['marker'].exists()


# ------------------------------------------------ load_from conversions
def _runner(bad, tmp_path, name, config=None, **opts):
    cfg = load_config(config or bad['config'], opts or None)
    return build_runner(cfg, work_dir=str(tmp_path / name))


def test_load_from_converts_an_official_encoder(bad, tmp_path, caplog):
    torch.manual_seed(3)
    vit = VisionTransformer(**TINY_VIT)
    path = tmp_path / 'official.pth'
    torch.save({'model': dict(vit.state_dict(),
                              mask_token=torch.zeros(1, 1, 32))}, path)
    runner = _runner(bad, tmp_path, 'a', load_from=str(path))
    runner.load_or_resume()
    model = runner.model
    for key, value in vit.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value)


@pytest.mark.slow
def test_load_from_whole_model_strict_and_refused_into_another(bad,
                                                               tmp_path):
    mae = MODELS.build(load_config(bad['config']).model)
    path = tmp_path / 'mae.pth'
    torch.save({'state_dict': mae.state_dict(), 'meta': {}}, path)
    runner = _runner(bad, tmp_path, 'a', load_from=str(path))
    runner.load_or_resume()
    for key, value in mae.state_dict().items():
        assert torch.equal(runner.model.state_dict()[key], value)
    # the MAE file into a classifier: refused, pointing at Pretrained
    with pytest.raises(CheckpointMismatchError,
                       match=r"mae.pth does not fit ImageClassifier.*"
                             r"Pretrained"):
        _runner(bad, tmp_path, 'b', config=str(FINETUNE),
                load_from=str(path), **TINY_CLS).load_or_resume()


@pytest.mark.parametrize('kind', ['timm', 'official'])
def test_resume_from_a_non_training_checkpoint_says_what_it_is(
        bad, tmp_path, kind):
    sd = VisionTransformer(**TINY_VIT).state_dict()
    path = tmp_path / f'{kind}.pth'
    if kind == 'timm':
        torch.save(dict(sd, **{'head.weight': torch.zeros(10, 32),
                               'head.bias': torch.zeros(10)}), path)
        says = 'plain state dict'
    else:
        torch.save({'model': sd}, path)
        says = "release checkpoint with only 'model'"
    cfg = load_config(bad['config'])
    runner = build_runner(cfg, work_dir=str(tmp_path / 'w'),
                          resume=str(path))
    with pytest.raises(CheckpointKindError) as err:
        runner.load_or_resume()
    msg = str(err.value)
    assert f'{kind}.pth' in msg and says in msg and 'load_from' in msg


# --------------------------------------------- configs are never executed
def test_saved_config_is_json_and_rebuilds_the_model(bad, tmp_path):
    runner = _runner(bad, tmp_path, 'save')
    runner.save_checkpoint(str(tmp_path), 'saved.pth', save_optimizer=False,
                           save_param_scheduler=False)
    ckpt = load_file(str(tmp_path / 'saved.pth'))
    text = ckpt['meta']['cfg']
    assert json.loads(text)['model']['type'] == 'MAE'
    from easymae.analysis import load_model_from_checkpoint
    model = load_model_from_checkpoint(str(tmp_path / 'saved.pth'))
    assert type(model).__name__ == 'MAE'


@pytest.fixture(scope='module')
def code_cfg_ckpt(bad):
    """A real tiny MAE checkpoint whose meta['cfg'] is Python text that
    would create the marker, and one whose text is plain (old style)."""
    cfg = load_config(bad['config'])
    model = MODELS.build(cfg.model)
    marker = bad['tmp'] / 'CFG_MARKER'
    paths = {}
    for name, prefix in (('code', f"__import__('os').system('touch "
                                  f"{marker}')\n"), ('plain', '')):
        path = bad['tmp'] / f'cfg_{name}.pth'
        torch.save({'state_dict': model.state_dict(),
                    'meta': {'epoch': 1, 'iter': 1,
                             'cfg': prefix + cfg.pretty_text}}, path)
        paths[name] = str(path)
    return dict(paths, marker=marker)


CONFIG_READERS = {
    'visualize': lambda b, p, t: load_tool('tools/visualize_mae.py').main(
        [p, b['image'], '--out', str(t / 'v')]),
    'attention_stats': lambda b, p, t: load_tool(
        'tools/analysis/attention_stats.py').main(
        [p, '--num-images', '2', '--out', str(t / 'a')]),
    'layer_similarity': lambda b, p, t: load_tool(
        'tools/analysis/layer_similarity.py').main(
        [p, p, '--num-images', '2', '--out', str(t / 's')]),
}


@pytest.mark.parametrize('tool', sorted(CONFIG_READERS))
def test_config_text_in_a_checkpoint_is_never_executed(
        bad, code_cfg_ckpt, tmp_path, tool):
    with pytest.raises(UnsafeConfigError, match=r'cfg_code.pth.*--config'):
        CONFIG_READERS[tool](bad, code_cfg_ckpt['code'], tmp_path)
    assert not code_cfg_ckpt['marker'].exists()
    # the plain text mmengine writes is read as data: the tool works
    CONFIG_READERS[tool](bad, code_cfg_ckpt['plain'], tmp_path)
    assert any(tmp_path.rglob('*.png'))


def test_publish_never_executes_the_stored_config(bad, code_cfg_ckpt,
                                                  tmp_path):
    from easymae.hub.publish import publish
    with pytest.warns(UserWarning, match='not executed'):
        result = publish(code_cfg_ckpt['code'], str(tmp_path / 'pub'))
    assert result['entry']['model'] is None
    assert not code_cfg_ckpt['marker'].exists()
    plain = publish(code_cfg_ckpt['plain'], str(tmp_path / 'pub2'))
    assert plain['entry']['model']['embed_dim'] == 32


def test_config_reader_accepts_data_only():
    assert read_checkpoint_config({'cfg': "a = dict(b=[1, -2.5, (3, 'x')],"
                                          " c=None)\nd = {'e': True}\n"}) \
        == {'a': {'b': [1, -2.5, [3, 'x']], 'c': None}, 'd': {'e': True}}
    for text in ("import os\n", "a = open('x')\n", "a = dict(**b)\n",
                 "a = [x for x in y]\n", "a.b = 1\n"):
        with pytest.raises(UnsafeConfigError):
            read_checkpoint_config({'cfg': text}, 'f.pth')
