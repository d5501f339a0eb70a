"""The ``easymae`` command, in the checkout and installed from a wheel.

The slow test builds the wheel from a copy of the working tree, installs it
(without dependencies) into a fresh virtual environment that reuses this
environment's packages through a ``.pth`` line, and runs the command from a
folder outside the repository: the configs and tools it uses are the ones
the wheel carries.
"""
import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest

from easymae import cli
from easymae.resources import configs_root, list_configs, tools_root

REPO = pathlib.Path(__file__).resolve().parents[2]
PY = sys.executable
PRETRAIN = 'mae_vit-tiny-d6-p4_1xb64-30e_digits'


def test_checkout_finds_its_configs_and_tools():
    assert pathlib.Path(configs_root()) == REPO / 'configs'
    assert pathlib.Path(tools_root()) == REPO / 'tools'
    found = list_configs(['mae', 'digits'])
    assert f'selfsup/mae/{PRETRAIN}.py' in found
    assert not any('_base_' in f for f in found)
    assert all('mae' in f and 'digits' in f for f in found)
    assert list_configs(['simmim_*digits*']) == \
        ['selfsup/simmim/simmim_vit-tiny-d6-p4_1xb64-30e_digits.py']


def test_list_configs_command(capsys):
    assert cli.main(['list-configs', 'mae', 'digits']) == 0
    out = capsys.readouterr().out.split()
    assert f'selfsup/mae/{PRETRAIN}' in out
    assert cli.main(['list-configs', 'no-such-config']) == 1
    assert 'no config matches' in capsys.readouterr().err


def test_usage_and_unknown_command(capsys):
    assert cli.main(['--help']) == 0
    usage = capsys.readouterr().out
    for name in ('train', 'test', 'predict', 'export', 'convert',
                 'download', 'main-job', 'list-configs'):
        assert f'  {name} ' in usage
    assert cli.main(['trian']) == 2
    assert 'did you mean train' in capsys.readouterr().err


def test_config_names_resolve_and_bad_names_are_one_line(capsys):
    path = cli._resolve_config([PRETRAIN, '--amp'])
    assert path == [str(REPO / 'configs' / 'selfsup' / 'mae' /
                        f'{PRETRAIN}.py'), '--amp']
    assert cli.main(['train', 'mae_vit-tiny-d6-p4_nonsense']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ConfigNameError:')


def test_python_dash_m_runs_a_tool():
    # a tool's own --help, reached through python -m easymae
    proc = subprocess.run([PY, '-m', 'easymae', 'convert', '--help'],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('usage: easymae convert')


def _site_packages(python: str) -> str:
    return subprocess.run(
        [python, '-c', 'import sysconfig; '
         "print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.extended
@pytest.mark.slow(seconds=100)
def test_wheel_installs_a_working_command(tmp_path):
    # build from a copy of the working tree: the checkout's build/ folder
    # is shared with whoever else builds here
    src = tmp_path / 'src'
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard',
                            '-z'], cwd=REPO, capture_output=True,
                           check=True).stdout.split(b'\0')
    for name in filter(None, files):
        rel = name.decode()
        if not (REPO / rel).is_file():
            continue  # deleted in the working tree
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes((REPO / rel).read_bytes())
    wheels = tmp_path / 'wheels'
    subprocess.run([PY, '-m', 'pip', 'wheel', '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(wheels),
                    str(src)], check=True, timeout=300, cwd=tmp_path)
    wheel = next(wheels.glob('easymae-*.whl'))

    venv = tmp_path / 'venv'
    subprocess.run([PY, '-m', 'venv', str(venv)], check=True, timeout=300)
    vpy = str(venv / 'bin' / 'python')
    # a bare path line: this environment's packages (torch, timm, ...) are
    # importable, but its own .pth files (an editable easymae) are not run
    (pathlib.Path(_site_packages(vpy)) / 'test_env.pth').write_text(
        sysconfig.get_paths()['purelib'] + '\n')
    subprocess.run([vpy, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-index', str(wheel)], check=True, timeout=300)

    run = tmp_path / 'elsewhere'
    run.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    exe = str(venv / 'bin' / 'easymae')

    def easymae(*args, timeout=300):
        proc = subprocess.run([exe, *args], cwd=run, env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout

    where = subprocess.run(
        [vpy, '-c', 'import easymae, easymae.resources as r; '
         'print(easymae.__file__); print(r.configs_root())'],
        cwd=run, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    site = _site_packages(vpy)
    assert where[0].startswith(site)  # the installed copy, not the checkout
    assert where[1] == os.path.join(site, 'easymae', '.mim', 'configs')

    listed = easymae('list-configs', 'mae', 'digits').split()
    assert f'selfsup/mae/{PRETRAIN}' in listed

    # one epoch of a 2-block encoder on the smaller split: the command,
    # not the model, is under test
    out = easymae('train', PRETRAIN, '--work-dir', 'w', '--cfg-options',
                  'train_cfg.max_epochs=1', 'warmup_epochs=1',
                  'model.backbone.depth=2',
                  'train_dataloader.dataset.data_source.split=val')
    ckpt = run / 'w' / 'epoch_1.pth'
    assert ckpt.is_file(), out
    easymae('convert', str(ckpt), 'enc.safetensors', '--to', 'timm')
    assert (run / 'enc.safetensors').is_file()
    # python -m easymae is the same command
    proc = subprocess.run([vpy, '-m', 'easymae', 'list-configs', 'simmim'],
                          cwd=run, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and 'simmim' in proc.stdout
    assert not (run / 'configs').exists()
