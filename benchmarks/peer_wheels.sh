#!/bin/bash
# The wheels the peer of peer_compare.py (mmpretrain 1.2.0) needs on a GPU
# machine that has python3 with torch, torchvision, numpy, opencv, pillow,
# pyyaml, click, markdown but no registry: gpu_suite.sh part peer installs
# them into /tmp/peer_site. All pure Python (py3-none-any), ~5 MB; mmcv
# 2.1.0 is built here from its sdist without ops (as mmcv-lite, what the CPU
# peer venv runs). matplotlib, which mmpretrain and mmengine list, is left
# out: the model and its training step never import it.
#   bash benchmarks/peer_wheels.sh [DIR]      (default .whl/peer, git-ignored)
set -e
cd "$(dirname "$0")/.."
DIR=${1:-.whl/peer}
PY=${PYTHON:-python3}
mkdir -p "$DIR"
$PY -m pip download -q --no-deps --only-binary=:all: -d "$DIR" \
  mmpretrain==1.2.0 mmengine==0.10.7 addict==2.4.0 yapf==0.43.0 \
  termcolor==3.3.0 platformdirs==4.14.7 mat4py==0.6.0 modelindex==0.0.2 \
  model-index==0.1.11 ordered-set==4.1.0 importlib_metadata==10.2.0 \
  zipp==4.1.2 lazy-importer==0.1.0 einops==0.8.2 rich==15.0.0 \
  markdown-it-py==4.3.0 mdurl==0.1.2 pygments==2.21.0
if ! ls "$DIR"/mmcv_lite-2.1.0-*.whl >/dev/null 2>&1; then
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  # mmcv's setup.py imports pkg_resources: setuptools < 81, in a venv of
  # its own (and no torch there, so no ops are even looked at)
  $PY -m venv "$TMP/venv"
  "$TMP/venv/bin/pip" install -q "setuptools>=77,<81" wheel
  "$TMP/venv/bin/pip" download -q --no-deps --no-binary :all: -d "$TMP" \
    mmcv==2.1.0
  MMCV_WITH_OPS=0 "$TMP/venv/bin/pip" wheel -q --no-deps \
    --no-build-isolation -w "$DIR" "$TMP"/mmcv-2.1.0.tar.gz
fi
ls "$DIR"
du -sh "$DIR"
