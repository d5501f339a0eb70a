"""Scheduler lengths follow the training loop: every shipped config trains
the warm-up and total length it trained before its schedulers named them
('warmup'/'max'), and train_cfg.max_epochs=N alone re-times the whole
schedule, in the runner that builds it."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

import easymae  # noqa: F401
from easymae.apis import build_runner, load_config
from easymae.config_check import (
    ConfigError,
    check_config,
    describe_schedule,
    resolve_param_scheduler,
)
from easymae.registry import PARAM_SCHEDULERS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# every training config (a kNN config evaluates frozen features only)
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**',
                                               '*.py'), recursive=True)
                 if '_base_' not in p
                 and not osp.basename(p).startswith('knn_'))
DIGITS_MAE = osp.join(ROOT, 'configs/selfsup/mae/'
                      'mae_vit-tiny-d6-p4_1xb64-30e_digits.py')

# (warm-up, total) in epochs, or iterations for the LAION configs: the
# lengths each config trained with when it still spelled them out in its
# own param_scheduler
LENGTHS = {
    'vit-base-p16_8xb128-coslr-100e_in1k': (5, 100),
    'vit-base-p16_linear-probe_8xb2048-coslr-90e_in1k': (10, 90),
    'vit-base-p16_partial-ft-k4_8xb128-coslr-100e_in1k': (5, 100),
    'vit-large-p16_8xb128-coslr-50e_in1k': (5, 50),
    'vit-tiny-d6-p4_1xb64-coslr-10e_digits': (1, 10),
    'vit-tiny-d6-p4_linear-probe_1xb64-coslr-10e_digits': (1, 10),
    'vit-tiny-d6-p4_partial-ft-k2_1xb64-coslr-10e_digits': (1, 10),
    'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits': (1, 10),
    'vit-tiny-p4_1xb256-coslr-100e_cifar10': (5, 100),
    'clip_vit-tiny-d4-p4_1xb64-7e_cifar10-dev-captions': (1, 7),
    'clip_vit-tiny-d4-p4_1xb64-8e_cifar10-dev-captions': (1, 8),
    'flip_vit-tiny-d4-p4_1xb64-12e_cifar10-dev-captions': (1, 12),
    'mae-lite-distill_vit-tiny-d6-p4_teacher-vit-small-d6_'
    '1xb128-20e_cifar10-dev': (2, 20),
    'mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev': (2, 20),
    'mae_vit-tiny-d6-p4_1xb128-14e_cifar10-dev': (2, 14),
    'mocov3_vit-tiny-d6-p4_1xb128-2e_cifar10-dev': (0.25, 2),
    'dino_vit-tiny-d6-p4_1xb128-1e_cifar10-dev': (0.1, 1),
    'simmim_vit-tiny-d6-p4_1xb128-10e_cifar10-dev': (1, 10),
    'simmim_vit-tiny-d6-p4_1xb128-6e_cifar10-dev': (1, 6),
    'vit-tiny-d6-p4_1xb256-coslr-10e_cifar10-dev': (1, 10),
    'vit-tiny-d6-p4_1xb256-coslr-5e_cifar10-dev': (1, 5),
    'vit-tiny-d6-p4_linear-probe_1xb256-coslr-10e_cifar10-dev': (1, 10),
    'vit-tiny-d6-p4_partial-ft-k2_1xb256-coslr-5e_cifar10-dev': (1, 5),
    'vit-tiny-d6-p4_scratch_1xb256-coslr-10e_cifar10-dev': (1, 10),
    'vit-tiny-d6-p4_scratch_1xb256-coslr-5e_cifar10-dev': (1, 5),
    'clip_vit-base-p16_256xb256-10000ve_laion400m': (781, 195490),
    'flip_vit-base-p16_256xb256-10000ve_laion400m': (781, 195490),
    'flip_vit-base-p16_unmasked-tuning_256xb256-100ve_laion400m': (390, 1954),
    'flip_vit-large-p16_256xb256-10000ve_laion400m': (781, 195490),
    'flip_vit-large-p16_unmasked-tuning_256xb256-100ve_laion400m': (390,
                                                                    1954),
    'flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions': (5, 50),
    'flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini': (3, 30),
    'flip_vit-tiny-d4-p8_unmasked-tuning_1xb16-5e_coco-captions-mini': (1, 5),
    'mae_vit-base-p16_8xb64-1600e_in1k': (40, 1600),
    'mae_vit-large-p16_8xb64-1600e_in1k': (40, 1600),
    'mae_vit-small-p4_1xb256-200e_cifar10': (10, 200),
    'mae_vit-tiny-d6-p4_1xb64-30e_digits': (3, 30),
    'mae_vit-tiny-p4_1xb256-200e_cifar10': (10, 200),
    'mae_vit-tiny-d6-p4_1xb64-30e_digits-shards': (3, 30),
    # ViT-BERT: teachers, joint students, their finetunes
    'teacher_bert-mini_1xb32-2kiter_wikitext2': (200, 2000),
    'teacher_vit-tiny-d6-p4_1xb32-2kiter_digits': (200, 2000),
    'vit-bert_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2': (200,
                                                                  2000),
    'vit-bert-kd_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2': (200,
                                                                     2000),
    'vit-bert-kd-gm_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2': (
        200, 2000),
    'vit-bert-mae_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2': (
        200, 2000),
    'bert-vit-tiny-d6_vit-bert-pre_1xb32-10e_sst2-1k': (31, 310),
    'vit-tiny-d6-p4_vit-bert-pre_1xb64-coslr-10e_digits': (1, 10),
    'mae_vit-large-p16_fsdp_8xb64-1600e_in1k': (40, 1600),
    'mae_vit-huge-p14_fsdp_8xb64-1600e_in1k': (40, 1600),
    'flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini-shards': (3, 30),
    'flip_vit-large-p14_fsdp_256xb256-10000ve_laion400m-shards': (781,
                                                                 195490),
    'mae-lite-distill_vit-tiny-p4_teacher-vit-small_'
    '1xb256-400e_cifar10': (40, 400),
    'mae-lite_vit-tiny-p4_1xb256-400e_cifar10': (40, 400),
    'simmim_vit-base-p16_8xb256-800e_in1k': (10, 800),
    'simmim_vit-tiny-d6-p4_1xb64-30e_digits': (3, 30),
    'simmim_vit-tiny-p4_1xb256-200e_cifar10': (10, 200),
    'mocov3_vit-small-p16_16xb256-300e_in1k': (40, 300),
    'mocov3_vit-base-p16_16xb256-300e_in1k': (40, 300),
    'mocov3_vit-tiny-p4_1xb256-300e_cifar10': (40, 300),
    'mocov3_vit-tiny-d6-p4_1xb64-30e_digits': (3, 30),
    'dino_vit-small-p16_8xb64-100e_in1k': (10, 100),
    'dino_vit-tiny-p4_1xb256-100e_cifar10': (10, 100),
    'dino_vit-tiny-d6-p4_1xb64-30e_digits': (3, 30),
    # BERT: iterations
    'bert_bert-base_8xb32-1000kiter_wikipedia': (10000, 1000000),
    'bert_bert-mini_1xb32-2kiter_wikitext2': (200, 2000),
    'bert-base_1xb32-3e_sst2': (631, 6312),
    'bert-mini_1xb32-3e_sst2': (631, 6312),
    'bert-mini_1xb32-10e_sst2-1k': (31, 310),
    'bert_bert-tiny_1xb32-4kiter_wikitext2': (400, 4000),
    'bert-tiny_1xb32-3e_sst2': (631, 6312),
    'bert-tiny_scratch_1xb32-3e_sst2': (631, 6312),
    'bert-tiny_1xb32-10e_sst2-1k': (31, 310),
    'bert-tiny_scratch_1xb32-10e_sst2-1k': (31, 310),
}
# SimMIM's one x0.1 step, counted from the warm-up's end (the in1k recipe
# steps at epoch 10 + 690 = 700, as the reference's absolute milestone)
MILESTONES = {'simmim_vit-base-p16_8xb256-800e_in1k': [690],
              'simmim_vit-tiny-p4_1xb256-200e_cifar10': [175],
              'simmim_vit-tiny-d6-p4_1xb64-30e_digits': [26],
              'simmim_vit-tiny-d6-p4_1xb128-10e_cifar10-dev': [9],
              'simmim_vit-tiny-d6-p4_1xb128-6e_cifar10-dev': [4]}
EPOCH = 20  # iterations per epoch for the built schedulers (any will do)
# runners below get their own experiment_name: mmengine keys its logger and
# visualizer instances by it, and the default (a timestamp) repeats within
# a second, handing a later test this one's visualizer


def name(path):
    return osp.splitext(osp.basename(path))[0]


def lr_schedulers(schedulers):
    """The learning-rate ones (DINO also schedules its weight decay)."""
    return [s for s in schedulers
            if s.get('param_name', 'lr') == 'lr']


def build_schedulers(cfg):
    """The lr schedulers as the runner builds them (mmengine's registry,
    with epoch-based ones converted to iterations), on a dummy
    optimizer."""
    resolved = lr_schedulers(resolve_param_scheduler(cfg.param_scheduler,
                                                     cfg))
    wrapper = OptimWrapper(torch.optim.SGD(
        [torch.nn.Parameter(torch.zeros(1))], lr=1.0))
    with DefaultScope.overwrite_default_scope('easymae'):
        return [PARAM_SCHEDULERS.build(
            dict(s), default_args=dict(optimizer=wrapper,
                                       epoch_length=EPOCH))
            for s in resolved]


def test_every_shipped_config_is_in_the_table():
    assert sorted(map(name, CONFIGS)) == sorted(LENGTHS)


@pytest.mark.parametrize('path', CONFIGS, ids=name)
def test_shipped_schedule_is_the_one_it_trained_before(path):
    cfg = load_config(path)
    warmup, total = LENGTHS[name(path)]
    by_iter = 'max_iters' in cfg.train_cfg
    assert (cfg.get('warmup_iters' if by_iter else 'warmup_epochs'),
            cfg.train_cfg.get('max_iters' if by_iter else 'max_epochs')) \
        == (warmup, total)
    # the lengths live in one place: the schedulers name them
    assert [(s.begin, s.end) for s in lr_schedulers(cfg.param_scheduler)] \
        == [(0, 'warmup'), ('warmup', 'max')]
    unit = 1 if by_iter else EPOCH
    ramp, main = build_schedulers(cfg)
    # a fraction of an epoch ends where mmengine rounds it down to
    warmup_end = int(warmup * unit)
    assert (ramp.begin, ramp.end) == (0, warmup_end)
    assert (main.begin, main.end) == (warmup_end, total * unit)
    if type(main).__name__ == 'CosineAnnealingLR':
        assert main.T_max == total * unit - warmup_end
    elif type(main).__name__ == 'LinearLR':  # BERT: linear decay to zero
        assert (main.start_factor, main.end_factor) == (1.0, 0.0)
    else:
        assert type(main).__name__ == 'MultiStepLR'
        assert sorted(main.milestones) == \
            [m * unit for m in MILESTONES[name(path)]]


@pytest.mark.parametrize('path', [
    DIGITS_MAE,
    osp.join(ROOT, 'configs/classification/mae/'
             'vit-base-p16_8xb128-coslr-100e_in1k.py'),
    osp.join(ROOT, 'configs/selfsup/flip/'
             'flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions.py')],
    ids=name)
def test_max_epochs_alone_gives_warmup_and_a_full_cosine(path):
    cfg = load_config(path, {'train_cfg.max_epochs': 12})
    warmup = cfg.warmup_epochs
    ramp, cosine = build_schedulers(cfg)
    assert (ramp.begin, ramp.end) == (0, warmup * EPOCH)
    assert (cosine.begin, cosine.end, cosine.T_max) == \
        (warmup * EPOCH, 12 * EPOCH, (12 - warmup) * EPOCH)
    # and the warm-up is one key too
    cfg = load_config(path, {'train_cfg.max_epochs': 12, 'warmup_epochs': 2})
    ramp, cosine = build_schedulers(cfg)
    assert (ramp.end, cosine.begin, cosine.end) == \
        (2 * EPOCH, 2 * EPOCH, 12 * EPOCH)


def test_max_iters_alone_retimes_an_iteration_schedule():
    cfg = load_config(osp.join(
        ROOT, 'configs/selfsup/flip/'
        'flip_vit-base-p16_256xb256-10000ve_laion400m.py'),
        {'train_cfg.max_iters': 5000})
    ramp, cosine = build_schedulers(cfg)
    assert (ramp.end, cosine.begin, cosine.end, cosine.T_max) == \
        (781, 781, 5000, 5000 - 781)


def test_resolution_copies_and_leaves_numbers_alone():
    cfg = load_config(DIGITS_MAE)
    raw = [dict(type='LinearLR', begin=0, end=2),
           dict(type='StepLR', step_size=1, begin=2, end='max')]
    out = resolve_param_scheduler(raw, cfg)
    assert out == [dict(type='LinearLR', begin=0, end=2),
                   dict(type='StepLR', step_size=1, begin=2, end=30)]
    assert raw[1]['end'] == 'max'
    # one scheduler list per optimizer
    assert resolve_param_scheduler({'a': raw}, cfg) == {'a': out}
    assert describe_schedule(out) == 'LinearLR epochs 0-2, StepLR epochs 2-30'


def test_runner_builds_the_retimed_schedule(tmp_path):
    cfg = load_config(DIGITS_MAE, {
        'train_cfg.max_epochs': 4, 'warmup_epochs': 1,
        'model.backbone.embed_dim': 32, 'model.backbone.depth': 1,
        'model.backbone.num_heads': 2, 'model.neck.decoder_embed_dim': 32,
        'model.neck.decoder_depth': 1, 'model.neck.decoder_num_heads': 2,
        'optim_wrapper.optimizer.fused': False})
    cfg.experiment_name = f'schedules_{tmp_path.name}'
    runner = build_runner(cfg, work_dir=str(tmp_path))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    ramp, cosine = runner.build_param_scheduler(runner.param_schedulers)
    n = len(runner.train_dataloader)
    assert (ramp.begin, ramp.end) == (0, n)
    assert (cosine.begin, cosine.end, cosine.T_max) == (n, 4 * n, 3 * n)


def test_runner_rejects_a_name_it_cannot_resolve(tmp_path):
    cfg = load_config(DIGITS_MAE, {'model.backbone.depth': 1})
    cfg.pop('warmup_epochs')
    cfg.check_config = False  # the runner's own check, not the config's
    cfg.experiment_name = f'schedules_{tmp_path.name}'
    runner = build_runner(cfg, work_dir=str(tmp_path))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    with pytest.raises(ConfigError, match="needs warmup_epochs"):
        runner.build_param_scheduler(runner.param_schedulers)


def test_a_run_shorter_than_its_warmup_leaves_the_cosine_out(tmp_path):
    # a 1-epoch smoke run of the 3-epoch-warm-up recipe: the cosine would
    # begin after the run ends; mmengine refuses end <= begin, so the
    # runner leaves it out (the config check warns), as before it never ran
    cfg = load_config(DIGITS_MAE, {'train_cfg.max_epochs': 1,
                                   'model.backbone.depth': 1})
    assert resolve_param_scheduler(cfg.param_scheduler, cfg)[1].begin == 3
    cfg.experiment_name = f'schedules_{tmp_path.name}'
    runner = build_runner(cfg, work_dir=str(tmp_path))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    built = runner.build_param_scheduler(runner.param_schedulers)
    n = len(runner.train_dataloader)
    assert [(type(s).__name__, s.begin, s.end) for s in built] == \
        [('LinearLR', 0, 3 * n)]


def test_a_fraction_of_an_epoch_is_checked_as_mmengine_builds_it(tmp_path):
    # a warm-up of a quarter epoch: mmengine scales begin/end by the epoch
    # length before building the iteration scheduler, so the config check
    # accepts it there and refuses it where nothing converts it
    over = {'train_cfg.max_epochs': 2, 'warmup_epochs': 0.25,
            'model.backbone.depth': 1}
    cfg = load_config(DIGITS_MAE, over)
    check_config(cfg)
    cfg.experiment_name = f'schedules_{tmp_path.name}'
    runner = build_runner(cfg, work_dir=str(tmp_path))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    ramp, cosine = runner.build_param_scheduler(runner.param_schedulers)
    n = len(runner.train_dataloader)
    assert (ramp.end, cosine.begin, cosine.end) == (int(0.25 * n),
                                                      int(0.25 * n), 2 * n)
    cfg = load_config(DIGITS_MAE, over)
    for sched in cfg.param_scheduler:
        sched.convert_to_iter_based = False
    with pytest.raises(ConfigError, match='LinearLR expects int, got float'):
        check_config(cfg)
