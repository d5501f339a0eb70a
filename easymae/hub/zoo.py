"""The model zoo index: one reviewed JSON file shipped with the package.

Each entry names its download URL(s), what is known to verify the file
(sha256, or an md5 prefix and the size when the publisher gave no sha256;
``null`` plus a ``*_note`` saying so where nothing was published),
its layout, whether it holds the MAE decoder, whether it was trained with
``norm_pix_loss``, its epochs, the reported metric, the easymae config it
belongs to and the easymae model to build for it (``get_model``).

``$EASYMAE_ZOO_INDEX`` (or ``index=``) points at another index file, e.g. a
private zoo or the tiny one the tests serve on 127.0.0.1.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

from easymae.fileio.download import cache_path, download_url, verify_checkpoint
from .hf_hub import fetch_hf_hub, is_hf_hub

DEFAULT_INDEX = osp.join(osp.dirname(__file__), 'zoo.json')
REQUIRED = ('urls', 'layout', 'holds_decoder', 'norm_pix', 'epochs',
            'task', 'model')


class UnknownModelError(KeyError):
    def __str__(self):
        return self.args[0]


def index_path(index: Optional[str] = None) -> str:
    return index or os.environ.get('EASYMAE_ZOO_INDEX') or DEFAULT_INDEX


def load_zoo(index: Optional[str] = None) -> Dict[str, dict]:
    path = index_path(index)
    with open(path) as f:
        data = json.load(f)
    models = data.get('models', data)
    for name, entry in models.items():
        lacking = [k for k in REQUIRED if k not in entry]
        if lacking:
            raise ValueError(f'zoo index {path}: entry {name!r} lacks '
                             f'{", ".join(lacking)}')
    return models


def list_models(index: Optional[str] = None) -> List[str]:
    """Names of the zoo's models, sorted."""
    return sorted(load_zoo(index))


def get_entry(name: str, index: Optional[str] = None) -> dict:
    models = load_zoo(index)
    if name not in models:
        close = [m for m in models if name.lower() in m.lower()]
        hint = f'; did you mean {", ".join(close)}?' if close else ''
        raise UnknownModelError(
            f'{name!r} is not in the model zoo ({index_path(index)}){hint} '
            f'Known: {", ".join(sorted(models))}')
    return dict(models[name], name=name)


def verified_by(entry: dict) -> List[str]:
    """What a download of ``entry`` is checked against, strongest first.

    Without a full sha256 (no MAE release publishes one) a file is accepted
    when it matches what is known -- md5 prefix, size, the server's
    ``Content-Length`` -- and loads as a safe checkpoint; a file cut short
    without a ``Content-Length``, an HTML error page or a pickle that would
    run code is refused and not cached.
    """
    sha256, md5, size = (entry.get(k) for k in ('sha256', 'md5', 'size'))
    if sha256 and len(sha256) == 64:
        return ['sha256']
    checks = [f'sha256 prefix {sha256}'] if sha256 else []
    if md5:
        checks.append('md5' if len(md5) == 32 else f'md5 prefix {md5}')
    if size:
        checks.append(f'size {size} bytes')
    return checks + ['Content-Length (when the server sends one)',
                     'loads as a safe checkpoint']


def fetch(name: str, index: Optional[str] = None,
          offline: Optional[bool] = None, progress: bool = True) -> str:
    """Local path of a zoo entry's checkpoint, downloaded and verified once
    into ``<cache>/checkpoints/<url key>/`` (:func:`cache_path`). Mirrors
    (further URLs) are tried in turn when a download fails.

    An entry with a sha256 is checked against it. One without (most public
    files: the publisher gave none) is checked by what is known -- the md5
    prefix and ``size`` when given, the ``Content-Length`` -- and by loading
    it as a safe checkpoint before it enters the cache; a cached file that
    no longer loads is named and fetched again."""
    entry = get_entry(name, index)
    errors = []
    for url in entry['urls']:
        try:
            if is_hf_hub(url):  # a Hub repository: the same checks apply
                return fetch_hf_hub(url, entry.get('filename'),
                                    sha256=entry.get('sha256') or None,
                                    md5=entry.get('md5') or None,
                                    size=entry.get('size') or None,
                                    offline=offline,
                                    verify=verify_checkpoint)
            dst = cache_path(url, entry.get('filename'))
            return download_url(url, dst, sha256=entry.get('sha256') or None,
                                md5=entry.get('md5') or None,
                                size=entry.get('size') or None,
                                progress=progress, offline=offline,
                                verify=verify_checkpoint)
        except Exception as e:  # try the next mirror, then report all
            errors.append(e)
    if len(errors) == 1:
        raise errors[0]
    raise RuntimeError(f'zoo entry {name!r}: every URL failed: ' +
                       '; '.join(str(e) for e in errors))
