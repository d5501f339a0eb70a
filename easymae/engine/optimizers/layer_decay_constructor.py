"""Layer-wise learning-rate decay for finetuning (BEiT / MAE).

Lower layers of a pretrained ViT keep their features; upper layers adapt:
each parameter's lr is ``base_lr * decay ** (L + 1 - layer_id)`` with MAE's
layer ids (``util/lr_decay.py``): 0 for patch_embed / cls_token / pos_embed,
i + 1 for block i, L + 1 for everything after the blocks (norm, fc_norm,
neck, head). The backbone says where a parameter sits through
``get_layer_depth(name) -> (layer_id, num_layers)`` (num_layers = L + 2), so
any backbone with that method can take part.

No weight decay on 1-D parameters (norms, biases) and on the backbone's
``no_weight_decay()`` names (pos_embed, cls_token), as MAE.

The scale is applied once, here, in each group's initial lr. mmengine's
schedulers then move every group's lr by the same factor (LinearLR warm-up
multiplies; cosine with ``eta_min_ratio`` is relative to each group's own
initial lr), so the ratios between groups hold at every step.
"""
from collections import OrderedDict
from typing import List

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor

from easymae.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(layer_decay_rate=0.65)``; the backbone is the
    model's ``backbone`` attribute (or the model itself if it has
    ``get_layer_depth``). Frozen parameters are left out of the optimizer.
    """

    def _validate_cfg(self) -> None:
        cfg = self.paramwise_cfg
        if not isinstance(cfg, dict) or 'layer_decay_rate' not in cfg:
            raise ValueError('LayerDecayOptimWrapperConstructor needs '
                             'paramwise_cfg=dict(layer_decay_rate=...), got '
                             f'{cfg!r}')
        unknown = sorted(set(cfg) - {'layer_decay_rate'})
        if unknown:
            raise ValueError('LayerDecayOptimWrapperConstructor: unknown '
                             f'paramwise_cfg key(s) {unknown}; only '
                             'layer_decay_rate is understood')
        rate = cfg['layer_decay_rate']
        if not 0.0 < float(rate) <= 1.0:
            raise ValueError('LayerDecayOptimWrapperConstructor: '
                             f'layer_decay_rate must be in (0, 1], got {rate}')
        if self.base_lr is None:
            raise ValueError('LayerDecayOptimWrapperConstructor: the '
                             'optimizer config needs an lr')

    def add_params(self, params: List[dict], module: nn.Module,
                   prefix: str = '', **kwargs) -> None:
        if is_model_wrapper(module):
            module = module.module
        backbone = getattr(module, 'backbone', None)
        bb_prefix = 'backbone.'
        if backbone is None and hasattr(module, 'get_layer_depth'):
            backbone, bb_prefix = module, ''
        if backbone is None or not hasattr(backbone, 'get_layer_depth'):
            raise TypeError(
                'LayerDecayOptimWrapperConstructor: the model needs a '
                '`backbone` with a get_layer_depth(name) method; '
                f'{type(module).__name__} has none')
        decay = float(self.paramwise_cfg['layer_decay_rate'])
        weight_decay = self.base_wd or 0.0
        skip_wd = set(getattr(backbone, 'no_weight_decay', lambda: ())())

        groups = OrderedDict()
        num_layers = None
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            in_backbone = name.startswith(bb_prefix)
            bb_name = name[len(bb_prefix):] if in_backbone else None
            if in_backbone:
                layer_id, num_layers = backbone.get_layer_depth(bb_name)
            else:  # neck and head sit above the backbone
                _, num_layers = backbone.get_layer_depth('')
                layer_id = num_layers - 1
            no_wd = param.ndim == 1 or bb_name in skip_wd
            key = (layer_id, no_wd)
            if key not in groups:
                scale = decay ** (num_layers - 1 - layer_id)
                groups[key] = dict(
                    params=[], param_names=[], layer_id=layer_id,
                    lr_scale=scale, lr=self.base_lr * scale,
                    weight_decay=0.0 if no_wd else weight_decay)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        # top layer first: mmengine logs the first group's lr as `lr`, so
        # the log shows the head's (unscaled) lr rather than the smallest
        params.extend(sorted(groups.values(),
                             key=lambda g: (-g['layer_id'],
                                            g['weight_decay'] == 0.0)))
        self._log_groups(params, decay, num_layers)

    @staticmethod
    def _log_groups(groups: List[dict], decay: float, num_layers) -> None:
        logger = MMLogger.get_current_instance()
        lines = [f'layer-wise lr decay {decay}, {num_layers} layer ids; '
                 'parameter groups (layer id, lr scale, weight decay, names):']
        for g in groups:
            names = g['param_names']
            shown = ', '.join(names[:4]) + (f', ... ({len(names)} tensors)'
                                            if len(names) > 4 else '')
            lines.append(f'  layer {g["layer_id"]:>3}  scale '
                         f'{g["lr_scale"]:.4g}  wd {g["weight_decay"]:g}  '
                         f'{shown}')
        logger.info('\n'.join(lines))
