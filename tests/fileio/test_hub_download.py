"""download_url against a real HTTP server on 127.0.0.1."""
import hashlib
import os
import pathlib

import pytest
from hub_server import HubServer

from easymae.fileio.download import (
    DownloadError,
    HashMismatchError,
    OfflineError,
    cache_path,
    download_url,
    get_cache_dir,
)

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


@pytest.fixture
def server():
    with HubServer({'w.bin': DATA}, slow_s=3.0) as srv:
        yield srv


def test_full_download_then_cache_hit(server, tmp_path, capsys):
    dst = tmp_path / 'cache' / 'w.bin'
    path = download_url(f'{server.url}/files/w.bin', str(dst), sha256=SHA,
                        md5=MD5, size=len(DATA))
    assert path == str(dst) and dst.read_bytes() == DATA
    assert not os.path.exists(str(dst) + '.part')
    progress = capsys.readouterr().err
    assert 'w.bin: 0.3/0.3 MB (100%)' in progress and 'MB/s' in progress
    # second call: verified cache hit, no request
    n = len(server.requests)
    download_url(f'{server.url}/files/w.bin', str(dst), sha256=SHA)
    assert len(server.requests) == n


def test_resume_after_connection_dropped(server, tmp_path):
    dst = tmp_path / 'w.bin'
    download_url(f'{server.url}/drop/w.bin', str(dst), sha256=SHA,
                 retries=2, backoff=0.01, progress=False)
    assert dst.read_bytes() == DATA
    first, second = server.requests[:2]
    assert first == ('/drop/w.bin', None)
    assert second == ('/drop/w.bin', f'bytes={len(DATA) // 2}-')


def test_404_is_not_retried(server, tmp_path):
    dst = tmp_path / 'missing.bin'
    with pytest.raises(DownloadError, match=r'HTTP 404 .*/files/missing'):
        download_url(f'{server.url}/files/missing.bin', str(dst),
                     retries=3, backoff=0.01)
    assert len(server.requests) == 1 and not dst.exists()


def test_timeout_with_bounded_retries(server, tmp_path):
    dst = tmp_path / 'w.bin'
    with pytest.raises(DownloadError) as err:
        download_url(f'{server.url}/slow/w.bin', str(dst), timeout=0.3,
                     retries=1, backoff=0.01, progress=False)
    msg = str(err.value)
    assert 'after 2 attempts' in msg and 'timed out after 0.3 s' in msg
    assert len(server.requests) == 2 and not dst.exists()


def test_corrupted_file_refused_and_deleted(server, tmp_path):
    dst = tmp_path / 'w.bin'
    wrong = '0' * 64
    with pytest.raises(HashMismatchError) as err:
        download_url(f'{server.url}/files/w.bin', str(dst), sha256=wrong,
                     progress=False)
    msg = str(err.value)
    assert wrong in msg and SHA in msg and 'deleted' in msg
    assert not dst.exists() and not os.path.exists(str(dst) + '.part')
    # md5 prefix checks name both as well
    with pytest.raises(HashMismatchError, match=f'prefix abc.*{MD5}'):
        download_url(f'{server.url}/files/w.bin', str(dst), md5='abc',
                     progress=False)


def test_corrupt_cache_is_fetched_again(server, tmp_path):
    dst = tmp_path / 'w.bin'
    dst.write_bytes(b'not the file')
    download_url(f'{server.url}/files/w.bin', str(dst), sha256=SHA,
                 progress=False)
    assert dst.read_bytes() == DATA


def test_offline_mode_reads_cache_only(server, tmp_path, monkeypatch):
    dst = tmp_path / 'w.bin'
    monkeypatch.setenv('EASYMAE_OFFLINE', '1')
    with pytest.raises(OfflineError, match='offline mode.*not in the cache'):
        download_url(f'{server.url}/files/w.bin', str(dst))
    assert server.requests == []
    monkeypatch.delenv('EASYMAE_OFFLINE')
    download_url(f'{server.url}/files/w.bin', str(dst), progress=False)
    assert download_url(f'{server.url}/files/w.bin', str(dst), sha256=SHA,
                        offline=True) == str(dst)
    assert len(server.requests) == 1


def test_cache_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv('EASYMAE_HOME', str(tmp_path / 'home'))
    assert get_cache_dir() == str(tmp_path / 'home')
    monkeypatch.delenv('EASYMAE_HOME')
    assert get_cache_dir().endswith(os.path.join('hub', 'easymae'))


# --- the cache cannot be poisoned or confused -------------------------------

def checkpoint_bytes(value: float) -> bytes:
    import io

    import torch
    buffer = io.BytesIO()
    torch.save({'model': {'w': torch.full((64,), value)}}, buffer)
    return buffer.getvalue()


CKPT_A, CKPT_B = checkpoint_bytes(1.0), checkpoint_bytes(2.0)


@pytest.fixture
def ckpt_server(tmp_path, monkeypatch):
    monkeypatch.setenv('EASYMAE_HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('EASYMAE_OFFLINE', raising=False)
    files = {'runA/epoch_30.pth': CKPT_A, 'runB/epoch_30.pth': CKPT_B,
             'ckpt.pth': CKPT_A, 'w.bin': DATA}
    with HubServer(files, slow_s=1.0, trickle_s=0.2) as srv:
        yield srv


def cached_files(tmp_path):
    """Every file in the cache, lock and record files aside."""
    home = tmp_path / 'home'
    return sorted(p for p in home.rglob('*')
                  if p.is_file() and not p.name.startswith('.'))


def test_cache_is_keyed_on_the_whole_url(ckpt_server, tmp_path):
    from easymae.fileio.safe_load import load_file
    from easymae.hub.resolve import resolve_checkpoint
    url_a = f'{ckpt_server.url}/files/runA/epoch_30.pth'
    url_b = f'{ckpt_server.url}/files/runB/epoch_30.pth'
    path_a = resolve_checkpoint(url_a, progress=False)
    path_b = resolve_checkpoint(url_b, progress=False)
    # same file name, different entries, both fetched, names kept
    assert path_a != path_b
    assert os.path.basename(path_a) == os.path.basename(path_b) == \
        'epoch_30.pth'
    assert path_a == cache_path(url_a) and path_b == cache_path(url_b)
    assert ckpt_server.count('/files/runA/epoch_30.pth') == 1
    assert ckpt_server.count('/files/runB/epoch_30.pth') == 1
    assert float(load_file(path_b)['model']['w'][0]) == 2.0
    # a cache hit each, no further request
    assert resolve_checkpoint(url_b, progress=False) == path_b
    assert len(ckpt_server.requests) == 2
    # the zoo uses the same key
    from easymae.hub.zoo import fetch
    index = tmp_path / 'zoo.json'
    import json
    index.write_text(json.dumps({'models': {'b': dict(
        urls=[url_b], layout='mae-official', holds_decoder=False,
        norm_pix=True, epochs=1, task='pretrain', model={})}}))
    assert fetch('b', str(index), progress=False) == path_b
    assert len(ckpt_server.requests) == 2


def test_cache_path_names(tmp_path):
    url = 'https://host/x/epoch_30.pth?token=1'
    path = cache_path(url, cache_dir=str(tmp_path))
    assert path.endswith(os.path.join('checkpoints',
                                      hashlib.sha256(url.encode())
                                      .hexdigest()[:16], 'epoch_30.pth'))
    assert cache_path(url, 'mine.pth', cache_dir='c').endswith('mine.pth')
    for bad in ('https://host/models/', 'https://host'):
        with pytest.raises(ValueError, match='names no file'):
            cache_path(bad, cache_dir=str(tmp_path))


def test_same_destination_from_another_url_is_fetched(ckpt_server,
                                                      tmp_path):
    dst = tmp_path / 'out' / 'epoch_30.pth'
    url_a = f'{ckpt_server.url}/files/runA/epoch_30.pth'
    url_b = f'{ckpt_server.url}/files/runB/epoch_30.pth'
    download_url(url_a, str(dst), progress=False)
    download_url(url_b, str(dst), progress=False)
    assert dst.read_bytes() == CKPT_B
    assert len(ckpt_server.requests) == 2


CONCURRENT = r'''
import os, sys, time
sys.path.insert(0, sys.argv[1])
from easymae.fileio import download as dl
open(sys.argv[4] + '.ready', 'w').close()
while not os.path.exists(sys.argv[5]):
    time.sleep(0.01)
print(dl.download_url(sys.argv[2], sys.argv[3], sha256=sys.argv[6],
                      progress=False))
'''


@pytest.mark.slow
def test_two_processes_download_the_same_url_once(ckpt_server, tmp_path):
    """Two real processes, one URL, one cache entry: one downloads while
    the other waits on the entry's lock, then finds it cached."""
    import subprocess
    import sys
    import time
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    url = f'{ckpt_server.url}/slow/w.bin'  # 1 s before the answer
    dst = tmp_path / 'cache' / 'w.bin'
    go = tmp_path / 'go'
    procs = [subprocess.Popen(
        [sys.executable, '-c', CONCURRENT, repo, url, str(dst),
         str(tmp_path / f'p{i}'), str(go), SHA],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    t0 = time.monotonic()
    while not all((tmp_path / f'p{i}.ready').exists() for i in range(2)):
        assert time.monotonic() - t0 < 60
        time.sleep(0.01)
    go.touch()
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip() == str(dst)
    assert dst.read_bytes() == DATA
    assert ckpt_server.count('/slow/w.bin') == 1
    assert not os.path.exists(str(dst) + '.part')


def test_truncated_body_without_length_is_not_cached(ckpt_server, tmp_path):
    from easymae.fileio.safe_load import CheckpointFormatError
    from easymae.hub.resolve import resolve_checkpoint
    url = f'{ckpt_server.url}/nolength/ckpt.pth'
    for _ in range(2):  # refused each time, never served from the cache
        with pytest.raises(CheckpointFormatError,
                           match=f'downloaded {url} was refused and '
                           'deleted: not a readable torch checkpoint'):
            resolve_checkpoint(url, progress=False)
    assert ckpt_server.count('/nolength/ckpt.pth') == 2
    assert cached_files(tmp_path) == []
    # with the size known (a zoo entry's), any file is caught by size
    with pytest.raises(HashMismatchError, match='size mismatch: expected '
                       f'{len(DATA)} bytes, got {len(DATA) // 2}'):
        download_url(f'{ckpt_server.url}/nolength/w.bin',
                     str(tmp_path / 'w.bin'), size=len(DATA),
                     progress=False)
    assert not (tmp_path / 'w.bin').exists()


def test_html_error_page_is_not_cached(ckpt_server, tmp_path):
    from easymae.fileio.safe_load import CheckpointFormatError
    from easymae.hub.resolve import resolve_checkpoint
    url = f'{ckpt_server.url}/html/ckpt.pth'
    with pytest.raises(CheckpointFormatError, match=f'{url} was refused '
                       'and deleted: not a checkpoint but a markup/HTML'):
        resolve_checkpoint(url, progress=False)
    assert cached_files(tmp_path) == []


def test_unsafe_pickle_is_not_cached(ckpt_server, tmp_path):
    import io
    import pathlib

    import torch

    from easymae.fileio.safe_load import UnsafeCheckpointError
    from easymae.hub.resolve import resolve_checkpoint
    buffer = io.BytesIO()
    torch.save({'x': pathlib.PurePosixPath('/')}, buffer)
    ckpt_server.files['odd.pth'] = buffer.getvalue()
    with pytest.raises(UnsafeCheckpointError, match='odd.pth was refused'):
        resolve_checkpoint(f'{ckpt_server.url}/files/odd.pth',
                           progress=False)
    assert cached_files(tmp_path) == []


def test_resume_answered_from_wrong_offset_restarts(ckpt_server, tmp_path):
    dst = tmp_path / 'w.bin'
    half = len(DATA) // 2
    (tmp_path / 'w.bin.part').write_bytes(DATA[:half])  # a killed download
    download_url(f'{ckpt_server.url}/badrange/w.bin', str(dst),
                 progress=False)
    assert dst.read_bytes() == DATA
    assert ckpt_server.requests == [('/badrange/w.bin', f'bytes={half}-'),
                                    ('/badrange/w.bin', None)]


def test_endless_body_is_capped(ckpt_server, tmp_path, monkeypatch):
    dst = tmp_path / 'w.bin'
    with pytest.raises(DownloadError, match=r'more than the cap of 1000000 '
                       r'\(max_bytes= or \$EASYMAE_MAX_DOWNLOAD_BYTES\) '
                       r'bytes; nothing was kept$'):
        download_url(f'{ckpt_server.url}/endless/w.bin', str(dst),
                     max_bytes=1_000_000, progress=False)
    assert not dst.exists() and not os.path.exists(str(dst) + '.part')
    monkeypatch.setenv('EASYMAE_MAX_DOWNLOAD_BYTES', '500000')
    with pytest.raises(DownloadError, match='cap of 500000'):
        download_url(f'{ckpt_server.url}/endless/w.bin', str(dst),
                     progress=False)
    # an announced length above the cap is refused before the body
    with pytest.raises(DownloadError, match='announces 300000 bytes, more '
                       'than the cap of 1000'):
        download_url(f'{ckpt_server.url}/files/w.bin', str(dst),
                     max_bytes=1000, progress=False)
    # and one that differs from the expected size too
    with pytest.raises(DownloadError, match='announces 300000 bytes, the '
                       'expected size is 300001'):
        download_url(f'{ckpt_server.url}/files/w.bin', str(dst),
                     size=len(DATA) + 1, progress=False)
    assert not dst.exists()


def test_trickling_server_hits_the_deadline(ckpt_server, tmp_path):
    import time
    dst = tmp_path / 'w.bin'
    t0 = time.monotonic()
    with pytest.raises(DownloadError, match=r'did not finish within its '
                       r'deadline of 1 s .*partial data, \d+ bytes, kept'):
        download_url(f'{ckpt_server.url}/trickle/w.bin', str(dst),
                     timeout=2, deadline_s=1, progress=False)
    assert time.monotonic() - t0 < 3.5  # per-read timeout alone: minutes
    assert not dst.exists()


def test_failure_message_claims_partial_data_only_when_kept(ckpt_server,
                                                            tmp_path):
    dst = tmp_path / 'w.bin'
    with pytest.raises(DownloadError) as err:
        download_url(f'{ckpt_server.url}/slow/w.bin', str(dst), timeout=0.2,
                     retries=0, progress=False)
    assert 'partial' not in str(err.value)
    with pytest.raises(DownloadError, match=r'partial data, 150000 bytes, '
                       r'kept in .*w.bin.part'):
        download_url(f'{ckpt_server.url}/drop/w.bin', str(dst), retries=0,
                     progress=False)


def test_cached_file_that_does_not_load_is_named_and_fetched_again(
        ckpt_server, tmp_path, capsys):
    from easymae.fileio.safe_load import CheckpointFormatError, load_file
    from easymae.hub.resolve import resolve_checkpoint
    url = f'{ckpt_server.url}/files/ckpt.pth'
    dst = cache_path(url)
    os.makedirs(os.path.dirname(dst))
    with open(dst, 'wb') as f:  # e.g. an HTML page cached by an old version
        f.write(HubServer.HTML)
    with pytest.raises(CheckpointFormatError,
                       match=f'cached file {dst} is not usable.*offline mode '
                       'cannot fetch it again: delete it'):
        resolve_checkpoint(url, offline=True)
    assert resolve_checkpoint(url, progress=False) == dst
    assert f'cached file {dst} is not usable (CheckpointFormatError' in \
        capsys.readouterr().err
    assert float(load_file(dst)['model']['w'][0]) == 1.0
    assert ckpt_server.count('/files/ckpt.pth') == 1
    # verified once: later hits trust the record (no load, no request)
    assert resolve_checkpoint(url, offline=True) == dst
    # a file changed after it was cached is checked again
    with open(dst, 'r+b') as f:
        f.truncate(100)
    assert resolve_checkpoint(url, progress=False) == dst
    assert ckpt_server.count('/files/ckpt.pth') == 2


TORCHRUN_SCRIPT = r'''
import os, sys, torch
from easymae.models.backbones.vision_transformer import VisionTransformer
vit = VisionTransformer(arch='tiny', img_size=16, patch_size=4, embed_dim=32,
                        depth=2, num_heads=2,
                        init_cfg=dict(type='Pretrained',
                                      checkpoint=sys.argv[1]))
vit.init_weights()
print('rank', os.environ['LOCAL_RANK'], float(vit.pos_embed.sum()))
'''


@pytest.mark.slow
def test_torchrun_ranks_share_one_download(tmp_path, monkeypatch):
    """Two torchrun ranks with a URL in init_cfg: one download, both load."""
    import io
    import subprocess
    import sys

    import torch

    from easymae.models.backbones.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    vit = VisionTransformer(arch='tiny', img_size=16, patch_size=4,
                            embed_dim=32, depth=2, num_heads=2)
    buffer = io.BytesIO()
    torch.save({'model': vit.state_dict()}, buffer)
    script = tmp_path / 'init.py'
    script.write_text(TORCHRUN_SCRIPT)
    repo = str(pathlib.Path(__file__).resolve().parents[2])
    env = dict(os.environ, EASYMAE_HOME=str(tmp_path / 'home'),
               PYTHONPATH=repo, OMP_NUM_THREADS='1')
    env.pop('EASYMAE_OFFLINE', None)
    with HubServer({'vit.pth': buffer.getvalue()}, slow_s=1.0) as srv:
        url = f'{srv.url}/slow/vit.pth'
        proc = subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run', '--standalone',
             '--nproc_per_node', '2', str(script), url],
            cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        want = f'{float(vit.pos_embed.sum())}'
        ranks = sorted(line for line in proc.stdout.splitlines()
                       if line.startswith('rank '))
        assert ranks == [f'rank 0 {want}', f'rank 1 {want}'], proc.stdout
        assert srv.count('/slow/vit.pth') == 1
