#!/usr/bin/env python
"""Join a sharded (FSDP2 / DCP) checkpoint folder into one file.

    python tools/consolidate_checkpoint.py work_dirs/run/epoch_9.dcp OUT.pth
    python tools/consolidate_checkpoint.py DIR.dcp OUT.safetensors

The output is easymae's single-file form: ``{'state_dict': the whole
model, 'meta': the run's meta}`` as ``.pth``, or the state dict as
``.safetensors`` with the meta as JSON in the file's metadata. It feeds
``load_from``, ``Pretrained`` inits, ``tools/convert_checkpoint.py`` and
the zoo tools; the optimizer state is left out. Runs in one process,
without a GPU; the folder is read without running code (restricted
unpickling of ``.metadata``), and the output is written atomically.
"""
import argparse
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import run_tool  # noqa: E402
from easymae.fileio.atomic import atomic_write_bytes  # noqa: E402
from easymae.fileio.dcp import load_dcp_checkpoint  # noqa: E402
from easymae.fileio.safe_load import CheckpointFormatError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='sharded checkpoint folder (NAME.dcp)')
    parser.add_argument('dst', help='output file (.pth or .safetensors)')
    return parser.parse_args(argv)


def consolidate(src: str, dst: str) -> dict:
    """Write ``dst`` from the folder ``src``; returns the checkpoint."""
    if not dst.endswith(('.pth', '.safetensors')):
        raise CheckpointFormatError(
            f'{dst}: the output must end in .pth or .safetensors')
    if not os.path.isdir(src):
        raise CheckpointFormatError(
            f'{src}: not a folder; a sharded checkpoint is a NAME.dcp folder')
    checkpoint = load_dcp_checkpoint(src)
    if dst.endswith('.safetensors'):
        from safetensors.torch import save
        meta = json.dumps(checkpoint.get('meta', {}), default=str)
        state = {k: v.contiguous() for k, v in
                 checkpoint['state_dict'].items()}
        data = save(state, metadata={'meta': meta})
    else:
        import torch
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
    atomic_write_bytes(data, dst)
    return checkpoint


def main(argv=None):
    args = parse_args(argv)
    checkpoint = consolidate(args.src, args.dst)
    state = checkpoint['state_dict']
    numel = sum(v.numel() for v in state.values())
    meta = checkpoint.get('meta', {})
    print(f'{args.dst}: {len(state)} tensors, {numel / 1e6:.2f} M values '
          f'(epoch {meta.get("epoch")}, iter {meta.get("iter")}, written by '
          f'{meta.get("sharded", {}).get("world_size")} process(es))')


if __name__ == '__main__':
    sys.exit(run_tool(main))
