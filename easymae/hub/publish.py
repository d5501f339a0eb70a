"""Turn a training checkpoint into release files and their zoo entry.

Optimizer, scheduler, message-hub and RNG state are stripped; the weights
are saved as safetensors (and optionally ``.pth``) named torch-hub style,
``<name>-<sha256[:8]>.<ext>``, so the name itself says which bytes it holds.
"""
import os
import os.path as osp
import warnings
from typing import Optional

from easymae.fileio.checkpoint_config import (
    CheckpointConfigError,
    read_checkpoint_config,
)
from easymae.fileio.download import file_hash
from easymae.fileio.safe_load import load_file
from easymae.fileio.state_dict import state_dict_of
from .convert import check_complete, to_timm
from .save import save_weights


def _training_facts(meta: dict, source: str) -> dict:
    """epochs, norm_pix and the backbone config, from an easymae
    checkpoint's meta. The stored config is read as data, never executed;
    one that is code rather than data leaves the facts unknown (warned)."""
    facts = dict(epochs=meta.get('epoch'), norm_pix=None, model=None)
    if meta.get('cfg') is None:
        return facts
    try:
        cfg = read_checkpoint_config(meta, source)
    except CheckpointConfigError as e:
        warnings.warn(f'{e}; norm_pix and model are left unknown in the '
                      'zoo entry', stacklevel=2)
        return facts
    model = cfg.get('model') or {}
    if isinstance(model, dict):
        head = model.get('head')
        if isinstance(head, dict):
            facts['norm_pix'] = head.get('norm_pix')
        if isinstance(model.get('backbone'), dict):
            facts['model'] = dict(model['backbone'])
    return facts


def publish(ckpt: str, out_dir: str, name: Optional[str] = None,
            also_pth: bool = False, encoder_only: bool = False,
            url_base: str = '') -> dict:
    """Write the release file(s) into ``out_dir``; return the zoo entry."""
    raw = load_file(ckpt)
    meta = raw.get('meta', {}) if isinstance(raw, dict) else {}
    name = name or osp.splitext(osp.basename(ckpt))[0]
    conv = to_timm(raw, source=ckpt)
    if encoder_only:
        check_complete(conv)
        weights, layout = dict(conv.state_dict), 'timm'
        holds_decoder = False
    else:
        weights, _ = state_dict_of(raw, ckpt)
        layout = conv.layout
        holds_decoder = any('decoder' in k or 'mask_token' in k
                            for k in conv.dropped)
    facts = _training_facts(meta, ckpt)
    plain_meta = {k: v for k, v in meta.items()
                  if k in ('epoch', 'iter', 'seed', 'experiment_name',
                           'mmengine_version', 'command')}
    # class names travel with a classifier, so predictions name classes
    dataset_meta = meta.get('dataset_meta')
    if isinstance(dataset_meta, dict) and dataset_meta.get('classes'):
        plain_meta['classes'] = [str(c) for c in dataset_meta['classes']]
    os.makedirs(out_dir, exist_ok=True)
    files = []
    exts = ['safetensors'] + (['pth'] if also_pth else [])
    for ext in exts:
        tmp = osp.join(out_dir, f'.{name}.publishing.{ext}')
        payload = {'state_dict': weights, 'meta': plain_meta}
        save_weights(payload, tmp)
        digest = file_hash(tmp, 'sha256')
        final = osp.join(out_dir, f'{name}-{digest[:8]}.{ext}')
        os.replace(tmp, final)
        files.append(dict(path=final, sha256=digest,
                          size=osp.getsize(final)))
    main = files[0]
    entry = {
        'urls': [url_base.rstrip('/') + '/' + osp.basename(main['path'])
                 if url_base else osp.basename(main['path'])],
        'filename': osp.basename(main['path']),
        'sha256': main['sha256'],
        'size': main['size'],
        'layout': layout,
        'holds_decoder': holds_decoder,
        'norm_pix': facts['norm_pix'],
        'epochs': facts['epochs'],
        'task': 'pretrain' if holds_decoder or 'head.weight' not in
        conv.state_dict else 'finetune',
        'metric': {},
        'config': None,
        'model': facts['model'],
    }
    return dict(name=name, entry=entry, files=files)
