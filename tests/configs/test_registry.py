"""Every registry resolves easymae components by `type=` in its scope."""
import pytest
import torch

from easymae import registry
from easymae.engine.precision import precision_problem
from easymae.registry import (
    DATA_SOURCES,
    DATASETS,
    HOOKS,
    MODELS,
    OPTIM_WRAPPERS,
    RUNNERS,
    TRANSFORMS,
)


def test_registries_are_scoped_children_of_mmengine():
    from mmengine.registry import MODELS as ROOT_MODELS
    assert MODELS.scope == 'easymae'
    assert MODELS.parent is ROOT_MODELS
    for name in ('TRANSFORMS', 'DATASETS', 'HOOKS', 'OPTIMIZERS',
                 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                 'PARAM_SCHEDULERS', 'METRICS'):
        reg = getattr(registry, name)
        assert reg.scope == 'easymae' and reg.parent is not None, name
    assert registry.PIPELINES is TRANSFORMS


def test_each_registry_builds_from_a_config():
    src = DATA_SOURCES.build(dict(type='Digits', split='val', img_size=16))
    assert len(src) > 0
    step = TRANSFORMS.build(dict(type='RandomHorizontalFlip', prob=1.0))
    assert step.prob == 1.0
    ds = DATASETS.build(dict(type='PipelineDataset',
                             data_source=dict(type='Digits', split='val',
                                              img_size=16),
                             pipeline=[dict(type='PackInputs')]))
    assert ds[0]['inputs'].shape == (3, 16, 16)
    vit = MODELS.build(dict(type='VisionTransformer', img_size=16,
                            patch_size=4, embed_dim=32, depth=1,
                            num_heads=2))
    assert vit(torch.zeros(1, 3, 16, 16)).shape == (1, 32)
    hook = HOOKS.build(dict(type='CheckpointHook', interval=1))
    assert type(hook).__module__.startswith('easymae')
    amp = dict(type='AmpOptimWrapper',
               optimizer=torch.optim.SGD(vit.parameters(), lr=0.1))
    problem = precision_problem(torch.bfloat16, 'cpu')
    if problem:  # a CPU without bf16 matrix units refuses it by name
        with pytest.raises(ValueError, match='AmpOptimWrapper: this CPU'):
            OPTIM_WRAPPERS.build(amp)
    else:
        assert OPTIM_WRAPPERS.build(amp).cast_dtype == torch.bfloat16
    assert RUNNERS.get('EasyRunner') is not None
    # mmengine's own components stay reachable from our scope
    assert HOOKS.get('IterTimerHook') is not None


def test_unknown_type_names_the_type():
    with pytest.raises(KeyError, match='NoSuchBackbone'):
        MODELS.build(dict(type='NoSuchBackbone'))


def test_misspelled_argument_names_the_key():
    with pytest.raises(TypeError, match='mask_ratoi'):
        MODELS.build(dict(
            type='MAE', mask_ratoi=0.5,
            backbone=dict(type='VisionTransformer', img_size=16,
                          patch_size=4, embed_dim=32, depth=1, num_heads=2),
            neck=dict(type='MAEDecoder', decoder_embed_dim=16,
                      decoder_depth=1, decoder_num_heads=2),
            head=dict(type='MAEPretrainHead')))


def test_tensorboard_backend_next_to_json_log(tmp_path):
    """--tensorboard adds event files beside mmengine's JSON scalars."""
    pytest.importorskip('tensorboard')
    from easymae.apis import build_runner, load_config
    cfg = load_config(
        'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py',
        {'train_cfg.max_epochs': 1, 'model.backbone.depth': 1,
         'model.backbone.embed_dim': 32, 'model.backbone.num_heads': 2,
         'train_dataloader.batch_size': 8,
         'train_dataloader.dataset.data_source.split': 'val',
         'train_dataloader.dataset.data_source.val_fraction': 0.02,
         'default_hooks.logger.interval': 1})
    runner = build_runner(cfg, work_dir=str(tmp_path), tensorboard=True)
    runner.train()
    events = list(tmp_path.rglob('events.out.tfevents.*'))
    scalars = list(tmp_path.rglob('scalars.json'))
    assert events and events[0].stat().st_size > 0
    assert scalars and 'loss' in scalars[0].read_text()
