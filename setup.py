"""Build hook: ship the configs and tools inside the package.

pyproject.toml holds the metadata; this adds one step to ``build_py``:
``configs/`` and ``tools/`` are copied, folder tree and all, into
``easymae/.mim/`` of the build, as OpenMMLab packages do, so an installed
``easymae`` finds them (``easymae.resources``) and ``_base_`` paths resolve
as in the checkout. Copies, not links: a link would point back into the
source tree that a wheel leaves behind.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ('configs', 'tools')
KEEP = ('.py', '.json', '.txt', '.md')


class BuildPyWithMim(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the checkout
            return
        here = os.path.dirname(os.path.abspath(__file__))
        for kind in SHIPPED:
            src = os.path.join(here, kind)
            if not os.path.isdir(src):
                continue
            dst = os.path.join(self.build_lib, 'easymae', '.mim', kind)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst, ignore=_ignore)


def _ignore(folder, names):
    return [n for n in names
            if n == '__pycache__' or
            (os.path.isfile(os.path.join(folder, n)) and
             not n.endswith(KEEP))]


setup(cmdclass={'build_py': BuildPyWithMim})
