"""download_url against a real HTTP server on 127.0.0.1."""
import hashlib
import os

import pytest

from easymae.fileio.download import (DownloadError, HashMismatchError,
                                  OfflineError, download_url, get_cache_dir)
from hub_server import HubServer

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
