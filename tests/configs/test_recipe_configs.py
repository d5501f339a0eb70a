"""Config-level reference behaviour: which parameters the MAE paper recipe
decays, SimMIM ViT-B's encoder, and keys --cfg-options can reach."""
import os.path as osp

import torch

import easymae  # noqa: F401
from easymae.apis import load_config
from easymae.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE_B = 'configs/selfsup/mae/mae_vit-base-p16_8xb64-1600e_in1k.py'
MAE_CIFAR = 'configs/selfsup/mae/mae_vit-tiny-p4_1xb256-200e_cifar10.py'
DISTILL = ('configs/selfsup/mae_lite/mae-lite-distill_vit-tiny-p4_'
           'teacher-vit-small_1xb256-400e_cifar10.py')


def decay_by_name(path, options=None):
    """name -> (weight decay, requires_grad) as the config's optimizer
    constructor groups the model's parameters; None: in no group."""
    cfg = load_config(osp.join(ROOT, path), options)
    model = MODELS.build(cfg.model)
    wrapper = cfg.optim_wrapper
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=wrapper.get('constructor', 'DefaultOptimWrapperConstructor'),
        optim_wrapper_cfg=dict(type='OptimWrapper',
                               optimizer=dict(wrapper.optimizer)),
        paramwise_cfg=wrapper.get('paramwise_cfg')))
    groups = []
    ctor.add_params(groups, model)
    decay = {}
    for group in groups:
        for p in group['params']:
            decay[id(p)] = group.get('weight_decay',
                                     wrapper.optimizer.weight_decay)
    return {n: (decay.get(id(p)), p.requires_grad)
            for n, p in model.named_parameters()}


def test_mae_paper_recipe_decays_as_the_reference():
    # facebookresearch/mae: timm's add_weight_decay skips frozen params and
    # exempts only 1-D params and biases
    wd = decay_by_name(MAE_B, {'model.backbone.depth': 1,
                               'model.neck.decoder_depth': 1})
    assert wd['backbone.cls_token'] == (0.05, True)
    assert wd['neck.mask_token'] == (0.05, True)
    assert wd['backbone.patch_embed.proj.weight'] == (0.05, True)
    assert wd['backbone.blocks.0.attn.qkv.weight'] == (0.05, True)
    for name in ('backbone.patch_embed.proj.bias', 'backbone.norm.weight',
                 'backbone.blocks.0.norm1.weight',
                 'backbone.blocks.0.attn.qkv.bias',
                 'neck.decoder_embed.bias'):
        assert wd[name] == (0.0, True), name
    # the fixed sin-cos tables are frozen: in no group, as the reference's
    # add_weight_decay skips them
    assert wd['backbone.pos_embed'] == (None, False)
    assert wd['neck.decoder_pos_embed'] == (None, False)
    # ViT-L inherits the recipe
    large = load_config(osp.join(ROOT, MAE_B.replace('base', 'large')))
    assert large.optim_wrapper.paramwise_cfg.custom_keys == {}


def test_small_data_mae_recipes_keep_their_token_exemption():
    # the recorded CIFAR/digits runs trained with it
    wd = decay_by_name(MAE_CIFAR, {'model.backbone.depth': 1,
                                   'model.neck.decoder_depth': 1})
    assert wd['backbone.cls_token'] == (0.0, True)
    assert wd['neck.mask_token'] == (0.0, True)
    assert wd['backbone.blocks.0.attn.qkv.weight'] == (0.05, True)


def test_simmim_vit_base_has_layer_scale_and_a_final_norm():
    cfg = load_config(osp.join(ROOT, 'configs/selfsup/simmim/'
                               'simmim_vit-base-p16_8xb256-800e_in1k.py'),
                      {'model.backbone.depth': 1})
    assert cfg.model.backbone.init_values == 0.1
    backbone = MODELS.build(cfg.model).backbone
    gammas = dict(backbone.named_parameters())
    assert torch.allclose(gammas['blocks.0.ls1.gamma'],
                          torch.full((768, ), 0.1))
    assert 'norm.weight' in gammas


def test_distill_teacher_checkpoint_is_a_config_key():
    default = load_config(osp.join(ROOT, DISTILL))
    assert 'teacher_checkpoint' not in default
    assert default.model.teacher.init_cfg.checkpoint == \
        'work_dirs/mae_vit-small-p4_1xb256-200e_cifar10/epoch_200.pth'
    cfg = load_config(osp.join(ROOT, DISTILL),
                      {'model.teacher.init_cfg.checkpoint': 'T.pth'})
    assert cfg.model.teacher.init_cfg.checkpoint == 'T.pth'
