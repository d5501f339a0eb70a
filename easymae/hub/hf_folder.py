"""A release folder that timm and the Hugging Face Hub read as they are.

``write_hf_folder`` turns a checkpoint into

* ``model.safetensors``: the encoder (and a classifier's linear head) in
  timm's names, a flat dict of tensors;
* ``config.json``: timm's Hub layout -- ``architecture`` (a registered timm
  name), ``num_classes``, ``num_features``, ``global_pool``, ``model_args``
  (the keyword arguments that rebuild this very ViT) and ``pretrained_cfg``
  (input size, mean / std on timm's 0..1 scale, crop_pct, interpolation);
* ``README.md``: a model card (data, recipe, metrics when known, the
  command that trained the model and the one that published it).

``timm.create_model('local-dir:FOLDER')`` (timm >= 1.0.16) and, once
pushed, ``timm.create_model('hf-hub:ORG/NAME')`` build the model from
``config.json`` and load the weights strictly.
``push_to_hub`` uploads the folder with ``huggingface_hub``.
"""
import json
import math
import os
import os.path as osp
import shlex
import warnings
from typing import Dict, Optional, Tuple

import torch

from easymae.fileio.atomic import atomic_write_bytes
from easymae.fileio.checkpoint_config import (
    CheckpointConfigError,
    read_checkpoint_config,
)
from easymae.fileio.constants import IMAGENET_MEAN, IMAGENET_STD
from easymae.fileio.safe_load import load_file
from .convert import ConversionError, check_complete, to_timm
from .save import save_weights

WEIGHTS_NAME = 'model.safetensors'
CONFIG_NAME = 'config.json'
CARD_NAME = 'README.md'

# easymae's arch names and the (embed_dim, num_heads) they stand for; timm
# registers ``vit_<arch>_patch<P>_<size>`` for these widths
ARCH_BY_WIDTH = {192: ('tiny', 3), 384: ('small', 6), 768: ('base', 12),
                 1024: ('large', 16), 1280: ('huge', 16)}
ARCH_WIDTH = {arch: (dim, heads)
              for dim, (arch, heads) in ARCH_BY_WIDTH.items()}
DEPTH = {'tiny': 12, 'small': 12, 'base': 12, 'large': 24, 'huge': 32}


class PublishError(ValueError):
    """The checkpoint cannot be written as a timm / Hub folder."""


def infer_backbone(state: Dict[str, torch.Tensor],
                   source: str = 'checkpoint') -> dict:
    """A VisionTransformer config read from the tensors' shapes, for a
    checkpoint that stores no config. Heads cannot be seen in shapes: they
    come from the standard width (192 -> 3, ..., 1280 -> 16)."""
    dim = state['cls_token'].shape[-1]
    if dim not in ARCH_BY_WIDTH:
        raise PublishError(
            f'{source}: stores no config and its width {dim} is not a '
            f'standard ViT width ({sorted(ARCH_BY_WIDTH)}), so the number of '
            'heads is unknown: pass the training config (--config)')
    arch, heads = ARCH_BY_WIDTH[dim]
    proj = state['patch_embed.proj.weight']
    patch = proj.shape[-1]
    grid = math.isqrt(state['pos_embed'].shape[1] - 1)
    depth = 1 + max(int(k.split('.')[1]) for k in state
                    if k.startswith('blocks.'))
    return dict(type='VisionTransformer', arch=arch, img_size=grid * patch,
                patch_size=patch, in_chans=proj.shape[1], embed_dim=dim,
                depth=depth, num_heads=heads,
                mlp_ratio=state['blocks.0.mlp.fc1.weight'].shape[0] / dim,
                qkv_bias='blocks.0.attn.qkv.bias' in state,
                global_pool='avg' if 'fc_norm.weight' in state else 'token',
                init_values=1.0 if 'blocks.0.ls1.gamma' in state else None)


def timm_model(backbone: dict, num_classes: int) -> Tuple[str, dict]:
    """(timm architecture name, model_args) that build the same ViT as the
    easymae ``backbone`` config. ``model_args`` lists every size explicitly,
    so the name only picks timm's family and defaults."""
    b = dict(backbone)
    if b.get('type', 'VisionTransformer') != 'VisionTransformer':
        raise PublishError(f"only a VisionTransformer backbone has a timm "
                           f"counterpart here, not {b.get('type')!r}")
    if b.get('norm_eps', 1e-6) != 1e-6:
        raise PublishError(f"norm_eps={b['norm_eps']}: timm's ViT config "
                           'cannot express a LayerNorm eps other than 1e-6')
    arch = b.get('arch', 'base')
    dim, heads = ARCH_WIDTH.get(arch, (768, 12))
    args = dict(img_size=b.get('img_size', 224),
                patch_size=b.get('patch_size', 16),
                in_chans=b.get('in_chans', 3),
                embed_dim=b.get('embed_dim') or dim,
                depth=b.get('depth') or DEPTH.get(arch, 12),
                num_heads=b.get('num_heads') or heads,
                mlp_ratio=float(b.get('mlp_ratio', 4.0)),
                qkv_bias=bool(b.get('qkv_bias', True)),
                class_token=True,
                global_pool=b.get('global_pool', 'token'),
                num_classes=int(num_classes))
    if b.get('init_values') is not None:
        args['init_values'] = float(b['init_values'])
    if args['embed_dim'] in ARCH_BY_WIDTH:
        arch = ARCH_BY_WIDTH[args['embed_dim']][0]
    name = f"vit_{arch}_patch{args['patch_size']}_{args['img_size']}"
    try:
        import timm
        if not timm.is_model(name):
            name = f"vit_{arch}_patch{14 if arch == 'huge' else 16}_224"
    except ImportError:  # the name is only a family: any is rebuilt by args
        pass
    return name, args


def _pipeline(cfg: dict):
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key)
        dataset = loader.get('dataset') if isinstance(loader, dict) else None
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            return dataset['pipeline']
    return cfg.get('test_pipeline') or []


def _size(value):
    if isinstance(value, (list, tuple)):
        return min(value)
    return value


def data_config(cfg: dict, model_args: dict) -> dict:
    """timm's preprocessing fields from the run's config: mean / std of
    the data preprocessor (0..255 in mmengine, 0..1 in timm), input size,
    and crop_pct / interpolation from the test pipeline's resize and crop
    (no resize: the images are already the input size, crop_pct 1)."""
    pre = (cfg.get('model') or {}).get('data_preprocessor') or {}
    mean = pre.get('mean') or IMAGENET_MEAN
    std = pre.get('std') or IMAGENET_STD
    scale = 255.0 if max(mean) > 1 else 1.0
    size = model_args['img_size']
    resize = crop = None
    interpolation = 'bicubic'
    for step in _pipeline(cfg):
        kind = step.get('type', '')
        if kind in ('Resize', 'ResizeEdge', 'RandomResize'):
            resize = _size(step.get('size') or step.get('scale') or size)
            interpolation = step.get('interpolation', interpolation)
        elif kind == 'CenterCrop':
            crop = _size(step.get('size') or step.get('crop_size') or size)
    crop_pct = 1.0 if not resize else round((crop or size) / resize, 4)
    return dict(input_size=[model_args['in_chans'], size, size],
                fixed_input_size=True, interpolation=interpolation,
                crop_pct=crop_pct, crop_mode='center',
                mean=[round(m / scale, 6) for m in mean],
                std=[round(s / scale, 6) for s in std])


def _metrics(raw, meta: dict, given: Optional[dict]) -> dict:
    """Metrics to report: those given, else what the checkpoint kept
    (``meta['metrics']``, or mmengine's best score under save_best)."""
    if given:
        return dict(given)
    found = meta.get('metrics')
    if isinstance(found, dict):
        return {k: v for k, v in found.items()
                if isinstance(v, (int, float))}
    hub = raw.get('message_hub') if isinstance(raw, dict) else None
    info = (hub or {}).get('runtime_info') or {}
    return {k: v for k, v in info.items()
            if k == 'best_score' and isinstance(v, (int, float))}


def _describe(value) -> str:
    if isinstance(value, dict):
        kind = value.get('type', '')
        rest = ', '.join(f'{k}={v!r}' for k, v in value.items()
                         if k != 'type' and not isinstance(v, (dict, list)))
        return f'{kind}({rest})' if kind else rest
    return repr(value)


def model_card(name: str, arch: str, model_args: dict, pretrained_cfg: dict,
               cfg: dict, meta: dict, metrics: dict, n_params: int,
               repo_id: Optional[str] = None,
               command: Optional[str] = None,
               license: str = 'apache-2.0') -> str:
    model = cfg.get('model') or {}
    algorithm = model.get('type', 'unknown')
    classifier = model_args['num_classes'] > 0
    train = (cfg.get('train_dataloader') or {})
    dataset = (train.get('dataset') or {}) if isinstance(train, dict) else {}
    source = dataset.get('data_source') if isinstance(dataset, dict) else None
    optim = (cfg.get('optim_wrapper') or {}).get('optimizer') or {}
    epochs = meta.get('epoch') or (cfg.get('train_cfg') or {}).get(
        'max_epochs')
    where = f'hf-hub:{repo_id}' if repo_id else 'local-dir:PATH/TO/THIS/FOLDER'
    kwargs = ', '.join(f'{k}={v!r}' for k, v in model_args.items())
    tags = ['timm', 'easymae', 'vision-transformer',
            'image-classification' if classifier else
            'image-feature-extraction']
    if algorithm.lower() in ('mae', 'simmim', 'flip', 'mocov3', 'dino'):
        tags.append(algorithm.lower())
    lines = ['---', 'library_name: timm', f'license: {license}', 'tags:']
    lines += [f'- {t}' for t in tags]
    lines += ['---', '', f'# {name}', '',
              f'A Vision Transformer trained with easymae ({algorithm}), '
              f'saved in timm\'s layout: `{arch}` with the arguments in '
              '`config.json`. ' + (
                  f'It classifies into {model_args["num_classes"]} classes.'
                  if classifier else
                  'It is an encoder without a classifier (features only; a '
                  'pretraining decoder is not included).'), '',
              '## Use it', '', '```python', 'import timm', '',
              f"model = timm.create_model('{where}', pretrained=True)",
              "cfg = timm.data.resolve_data_config({}, model=model)",
              'transform = timm.data.create_transform(**cfg)',
              '# or by architecture name and the weights file:',
              f"model = timm.create_model('{arch}', pretrained=True,",
              "    pretrained_cfg_overlay=dict(file='model.safetensors',",
              "                                custom_load=False,",
              f"                                num_classes="
              f"{model_args['num_classes']}),",
              f'    {kwargs})', '```', '',
              '## Model', '', '| | |', '|---|---|',
              f'| architecture | `{arch}` |',
              f'| parameters | {n_params / 1e6:.2f} M |',
              f"| width / depth / heads | {model_args['embed_dim']} / "
              f"{model_args['depth']} / {model_args['num_heads']} |",
              f"| patch / input | {model_args['patch_size']} / "
              f"{pretrained_cfg['input_size']} |",
              f"| pooling | {model_args['global_pool'] or 'none'} |",
              f"| mean / std (0..1) | {pretrained_cfg['mean']} / "
              f"{pretrained_cfg['std']} |",
              f"| crop_pct / interpolation | {pretrained_cfg['crop_pct']} / "
              f"{pretrained_cfg['interpolation']} |", '',
              '## Training', '']
    facts = [('algorithm', algorithm),
             ('data', _describe(source) if source else None),
             ('batch size per process', train.get('batch_size')
              if isinstance(train, dict) else None),
             ('epochs', epochs),
             ('optimizer', _describe(optim) if optim else None),
             ('mask ratio', model.get('mask_ratio')),
             ('normalised pixel targets',
              (model.get('head') or {}).get('norm_pix')
              if isinstance(model.get('head'), dict) else None),
             ('seed', meta.get('seed')),
             ('experiment', meta.get('experiment_name'))]
    known = [(k, v) for k, v in facts if v is not None]
    lines += [f'- {k}: {v}' for k, v in known] or ['- not recorded']
    if meta.get('command'):
        lines += ['', 'Trained with:', '', '```', str(meta['command']), '```']
    lines += ['', '## Metrics', '']
    if metrics:
        lines += ['| metric | value |', '|---|---|']
        lines += [f'| {k} | {v} |' for k, v in metrics.items()]
    else:
        lines.append('No evaluation was recorded with this checkpoint.')
    if command:
        lines += ['', '## Provenance', '', 'Published with:', '', '```',
                  command, '```']
    return '\n'.join(lines) + '\n'


def write_hf_folder(ckpt: str, out_dir: str, name: Optional[str] = None,
                    config: Optional[dict] = None,
                    metrics: Optional[dict] = None,
                    repo_id: Optional[str] = None,
                    command: Optional[str] = None,
                    license: str = 'apache-2.0') -> dict:
    """Write ``model.safetensors``, ``config.json`` and ``README.md`` for
    the checkpoint ``ckpt`` into ``out_dir``; return what was written.

    config: the run's config as a dict; by default the one the checkpoint
        stores (read as data, never executed), else the sizes are read from
        the tensors' shapes.
    """
    raw = load_file(ckpt)
    meta = raw.get('meta', {}) if isinstance(raw, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    name = name or osp.splitext(osp.basename(ckpt))[0]
    conv = to_timm(raw, source=ckpt)
    try:
        check_complete(conv)
    except ConversionError as e:
        raise PublishError(str(e)) from None
    cfg = config
    if cfg is None and meta.get('cfg') is not None:
        try:
            cfg = read_checkpoint_config(meta, ckpt)
        except CheckpointConfigError as e:
            warnings.warn(f'{e}; the sizes are read from the tensors',
                          stacklevel=2)
    cfg = dict(cfg or {})
    model_cfg = cfg.get('model') if isinstance(cfg.get('model'), dict) \
        else {}
    state = dict(conv.state_dict)
    if model_cfg.get('neck') and 'head.weight' in state:
        # a probing neck (BatchNorm) sits between backbone and head: timm's
        # head alone would give other logits, so publish the encoder
        warnings.warn(f'{ckpt}: the classifier has a neck timm cannot '
                      'express; the head is left out', stacklevel=2)
        state.pop('head.weight')
        state.pop('head.bias', None)
    backbone = model_cfg.get('backbone') if isinstance(
        model_cfg.get('backbone'), dict) else infer_backbone(state, ckpt)
    num_classes = state['head.weight'].shape[0] \
        if 'head.weight' in state else 0
    arch, model_args = timm_model(backbone, num_classes)
    width = state['cls_token'].shape[-1]
    if width != model_args['embed_dim']:
        raise PublishError(f'{ckpt}: the config says width '
                           f"{model_args['embed_dim']}, the tensors {width}")
    pretrained_cfg = dict(data_config(cfg, model_args),
                          num_classes=num_classes, pool_size=None,
                          first_conv='patch_embed.proj', classifier='head',
                          custom_load=False, license=license)
    hf_config = dict(architecture=arch, num_classes=num_classes,
                     num_features=model_args['embed_dim'],
                     global_pool=model_args['global_pool'],
                     model_args=model_args, pretrained_cfg=pretrained_cfg)
    os.makedirs(out_dir, exist_ok=True)
    weights = osp.join(out_dir, WEIGHTS_NAME)
    save_weights({k: v.contiguous() for k, v in state.items()}, weights)
    atomic_write_bytes((json.dumps(hf_config, indent=2) + '\n').encode(),
                       osp.join(out_dir, CONFIG_NAME))
    n_params = sum(v.numel() for v in state.values())
    card = model_card(name, arch, model_args, pretrained_cfg, cfg, meta,
                      _metrics(raw, meta, metrics), n_params, repo_id,
                      command, license)
    atomic_write_bytes(card.encode('utf-8'), osp.join(out_dir, CARD_NAME))
    return dict(folder=out_dir, architecture=arch, model_args=model_args,
                config=hf_config,
                files=[osp.join(out_dir, n)
                       for n in (WEIGHTS_NAME, CONFIG_NAME, CARD_NAME)])


def command_line(argv) -> str:
    """``argv`` as one line a shell reads back the same."""
    return ' '.join(shlex.quote(str(a)) for a in argv)


def push_to_hub(folder: str, repo_id: str, token: Optional[str] = None,
                private: bool = False, revision: Optional[str] = None,
                commit_message: str = 'Upload easymae model') -> str:
    """Upload ``folder`` to the Hub repository ``repo_id`` (created when
    missing); returns the commit URL. The token is ``token``, else the one
    ``huggingface_hub`` finds ($HF_TOKEN or ``hf auth login``);
    $HF_ENDPOINT picks another server."""
    try:
        from huggingface_hub import HfApi, get_token
    except ImportError:
        raise PublishError('pushing needs huggingface_hub: pip install '
                           'huggingface_hub') from None
    token = token or get_token()
    if not token:
        raise PublishError('no Hugging Face token: run `hf auth login` or '
                           'set HF_TOKEN, then push again (the folder is '
                           f'written: {folder})')
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(folder_path=folder, repo_id=repo_id,
                             revision=revision,
                             commit_message=commit_message)
    return str(getattr(info, 'commit_url', info))
