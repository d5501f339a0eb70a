"""Where the shipped configs and tools are, installed or in a checkout.

A wheel carries them inside the package, as OpenMMLab packages do:
``easymae/.mim/configs`` and ``easymae/.mim/tools``, copied there at build
time with their folder tree, so ``_base_`` paths such as
``'../../_base_/default_runtime.py'`` resolve as they do in the checkout.
A checkout (or an editable install) has no ``.mim``: its ``configs/`` and
``tools/`` beside the package are used.
"""
import difflib
import fnmatch
import os
import os.path as osp
from typing import List, Optional, Sequence

PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')


def _root(kind: str) -> str:
    shipped = osp.join(MIM_DIR, kind)
    if osp.isdir(shipped):
        return shipped
    return osp.join(osp.dirname(PACKAGE_DIR), kind)


def configs_root() -> str:
    """The folder holding ``_base_/``, ``selfsup/``, ``classification/``."""
    return _root('configs')


def tools_root() -> str:
    """The folder holding ``train.py``, ``test.py``, ``main_job.py``, ..."""
    return _root('tools')


def project_root() -> str:
    """The folder that holds both ``configs/`` and ``tools/``: the
    checkout, or ``easymae/.mim`` in an installed package."""
    return osp.dirname(configs_root())


def list_configs(patterns: Sequence[str] = (),
                 root: Optional[str] = None) -> List[str]:
    """Config files (paths relative to ``root``), ``_base_`` left out,
    sorted. A pattern keeps the configs whose relative path contains it,
    or matches it as a shell glob (``mae_*digits*``); several patterns must
    all match."""
    root = root or configs_root()
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if d != '_base_' and not d.startswith(('.', '_')))
        for name in files:
            if not name.endswith('.py') or name.startswith('_'):
                continue
            rel = osp.relpath(osp.join(folder, name), root)
            rel = rel.replace(os.sep, '/')
            if all(p in rel or fnmatch.fnmatch(osp.basename(rel), p) or
                   fnmatch.fnmatch(rel, p) for p in patterns):
                found.append(rel)
    return sorted(found)


class ConfigNameError(ValueError):
    """A config name that matches no config file, or several."""


def find_config(name: str, root: Optional[str] = None) -> str:
    """A config file from a path or a name: the file itself, else the one
    shipped config whose name is ``name``, else the one whose name
    contains it; no match or several is a :class:`ConfigNameError` that
    lists the closest names or the candidates."""
    if osp.isfile(name):
        return name
    root = root or configs_root()
    files = [osp.join(root, rel) for rel in list_configs(root=root)]
    stem = osp.basename(name)[:-3] if name.endswith('.py') else \
        osp.basename(name)
    stems = {p: osp.basename(p)[:-3] for p in files}
    exact = [p for p in files if stems[p] == stem]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [p for p in files if stem in stems[p]]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        close = difflib.get_close_matches(stem, list(stems.values()), n=5,
                                          cutoff=0.3)
        hint = ('; closest: ' + ', '.join(close)) if close else ''
        raise ConfigNameError(f'{name!r} is neither a config file nor the '
                              f'name of a config under {root}{hint}')
    shown = [osp.relpath(p, root) for p in matches[:20]]
    more = f' (+{len(matches) - 20} more)' if len(matches) > 20 else ''
    raise ConfigNameError(f'{name!r} matches {len(matches)} configs under '
                          f'{root}: {", ".join(shown)}{more}; give one of '
                          'them')
