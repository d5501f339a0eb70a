"""tools/download.py against a real HTTP server on 127.0.0.1 (run in this
process through its main(), which is what the command line calls)."""
import importlib.util
import io
import os
import pathlib
import time

import pytest
import torch
from hub_server import HubServer

from easymae.fileio.download import cache_path

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = os.urandom(100_000)


def _tool():
    spec = importlib.util.spec_from_file_location(
        'download_tool', REPO / 'tools' / 'download.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv('EASYMAE_HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('EASYMAE_OFFLINE', raising=False)
    buffer = io.BytesIO()
    torch.save({'model': {'w': torch.ones(4)}}, buffer)
    files = {'ckpt.pth': buffer.getvalue(), 'data.bin': DATA}
    with HubServer(files, slow_s=1.0, trickle_s=0.2) as srv:
        yield srv


def run(capsys, *argv):
    rc = _tool()(list(argv))
    out, err = capsys.readouterr()
    return rc, out.strip(), err


def test_url_ending_in_slash_is_an_error(server, capsys):
    rc, out, err = run(capsys, f'{server.url}/files/')
    assert rc == 1 and out == ''
    assert 'names no file' in err and 'ends in "/"' in err
    assert server.requests == []


def test_failure_does_not_claim_partial_data(server, capsys):
    rc, out, err = run(capsys, f'{server.url}/slow/ckpt.pth',
                       '--timeout', '0.2', '--retries', '0')
    assert rc == 1 and 'timed out after 0.2 s' in err
    assert 'partial' not in err


def test_deadline_flag(server, capsys):
    t0 = time.monotonic()
    rc, out, err = run(capsys, f'{server.url}/trickle/data.bin',
                       '--timeout', '2', '--deadline', '1', '--no-verify')
    assert rc == 1 and 'deadline of 1 s' in err
    assert time.monotonic() - t0 < 3.5


def test_checkpoint_into_the_url_keyed_cache(server, capsys):
    url = f'{server.url}/files/ckpt.pth'
    rc, out, err = run(capsys, url)
    assert rc == 0, err
    assert out == cache_path(url) and os.path.isfile(out)
    # a file that is not a checkpoint needs --no-verify
    url = f'{server.url}/files/data.bin'
    rc, out, err = run(capsys, url)
    assert rc == 1 and 'was refused and deleted' in err
    rc, out, err = run(capsys, url, '--no-verify')
    assert rc == 0 and pathlib.Path(out).read_bytes() == DATA
