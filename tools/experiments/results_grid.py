"""The experiments behind docs/results.md, as data: every step (one
``tools/train.py`` run) with its config, options and what it starts from.
``run_results.py`` runs them; this file only says what they are.

A grid is a function of the seeds that returns its steps, most important
first; ``GRIDS`` names them for ``run_results.py --grid``. Step names are
the work dirs and results.json keys of the recorded runs, so they keep the
names they ran under even where a config has since been renamed.
"""
from config_paths import (
    CLIP8_PT,
    CLIP_PT,
    DIGITS_FT,
    DIGITS_PT,
    DIGITS_SCRATCH,
    FLIP_PT,
    FT,
    FT5,
    FT5_SCRATCH,
    FT_SCRATCH,
    LINEAR,
    MAE_DISTILL,
    MAE_PT,
    PARTIAL,
    SIMMIM_PT,
)
from grid_lite_study import grid_lite_study
from grid_vit_bert import grid_vit_bert
from step import Step, seeded  # noqa: F401


def grid_cifar10(seeds):
    """The page's experiments, most important first. Finetune-side rows
    reuse the one main pretrain checkpoint."""
    main = 'mae_vit-tiny6-p4_1xb128-20e'
    # This run started before merged param groups became the default, and
    # was resumed from its epoch-10 checkpoint later: its optimizer state
    # has one group per parameter, so it keeps mmengine's constructor (the
    # same AdamW, only slower).
    steps = [Step(main, 'pretrain', MAE_PT,
                  ['optim_wrapper.constructor=DefaultOptimWrapperConstructor'],
                  group='pretrain',
                  label='MAE ViT-Tiny, mask 0.75, norm_pix, decoder 128x2')]
    # what fit the loaded 2-core CPU: 5-epoch finetunes, the MAE one from
    # the pretrain's epoch-10 snapshot
    for s in seeds:
        sfx, seed = seeded(s)
        steps += [
            Step('ft5e_mae-ep10' + sfx, 'finetune', FT5, seed,
                 init_from=main, init_epoch=10, group='main5',
                 label=f'MAE-pretrained (epoch 10 of 20), seed {s}',
                 meta=dict(seed=s)),
            Step('ft5e_mae' + sfx, 'finetune', FT5, seed, init_from=main,
                 group='main5', label=f'MAE-pretrained (20 epochs), seed {s}',
                 # the main point of the mask-ratio and partial-finetune
                 # curves (all 6 blocks train)
                 meta=dict(seed=s, mask_ratio=0.75, train_last_blocks=6)),
            Step('ft5e_scratch' + sfx, 'finetune', FT5_SCRATCH, seed,
                 group='main5', label=f'random init, seed {s}',
                 meta=dict(seed=s)),
        ]
    for s in seeds:
        sfx, seed = seeded(s)
        steps += [
            Step('ft10e_mae' + sfx, 'finetune', FT, seed, init_from=main,
                 group='main', label=f'MAE-pretrained, seed {s}',
                 meta=dict(seed=s)),
            Step('ft10e_scratch' + sfx, 'finetune', FT_SCRATCH, seed,
                 group='main', label=f'random init, seed {s}',
                 meta=dict(seed=s)),
        ]
    # finetune-side rows on the main pretrain checkpoint
    steps += [
        Step('linear10e_mae-ep10', 'finetune', LINEAR, init_from=main,
             init_epoch=10, group='probe',
             label='linear probe (frozen encoder), epoch-10 snapshot'),
        Step('linear10e_mae', 'finetune', LINEAR, init_from=main,
             group='probe', label='linear probe (frozen encoder)'),
    ]
    def finetunes(name, init_from, group, label, opts=(), config=FT5,
                  meta=None):
        """Finetune ``name`` of ``init_from``'s final checkpoint, once per
        seed (a second seed varies the finetune only, not the checkpoint)."""
        return [Step(name + sfx, 'finetune', config, list(opts) + seed,
                     init_from=init_from, group=group,
                     label=f'{label}, seed {s}', meta=dict(meta or {}, seed=s))
                for s in seeds for sfx, seed in [seeded(s)]]

    for k in (0, 1, 2, 4):
        steps += finetunes(f'partial5e_k{k}_mae', main, 'probe',
                           f'partial finetune k={k}',
                           [f'model.train_last_blocks={k}'], config=PARTIAL,
                           meta=dict(train_last_blocks=k))
    # finetune-recipe rows, each against the main row 'ft5e_mae'
    steps += finetunes('ft5e_mae_mixup-cutmix', main, 'ft_recipe',
                       'mixup 0.2 + cutmix 1.0',
                       ['model.data_preprocessor.mixup.cutmix_alpha=1.0',
                        'model.data_preprocessor.mixup.switch_prob=0.5'])
    steps += finetunes('ft5e_mae_cls-token', main, 'ft_recipe',
                       'cls token (instead of global pool)',
                       ['model.backbone.global_pool=token'])
    # other algorithms at the main MAE pretraining's wall-clock
    simmim = 'simmim_vit-tiny6-p4_1xb128-10e'
    steps.append(Step(simmim, 'pretrain', SIMMIM_PT, group='algorithms',
                      label='SimMIM ViT-Tiny, 10 epochs'))
    steps += finetunes('ft5e_simmim', simmim, 'algorithms',
                       'SimMIM-pretrained (equal wall-clock to MAE 20 epochs)')
    # FLIP vs CLIP: zero-shot is the pretraining's own number, so a second
    # seed repeats the pretraining
    for s in seeds:
        sfx, seed = seeded(s)
        steps += [
            Step('flip0.5_12e' + sfx, 'pretrain', FLIP_PT, seed, group='flip',
                 captions=True, label=f'FLIP, 50% masked, 12 epochs, seed {s}',
                 meta=dict(seed=s)),
            Step('clip_7e' + sfx, 'pretrain', CLIP_PT, seed, group='flip',
                 captions=True, meta=dict(seed=s),
                 label=f'CLIP (unmasked), 7 epochs (FLIP\'s wall-clock by '
                 f'the step benchmark), seed {s}'),
            Step('clip_8e' + sfx, 'pretrain', CLIP8_PT, seed, group='flip',
                 captions=True, meta=dict(seed=s),
                 label=f'CLIP (unmasked), 8 epochs (FLIP\'s wall-clock in '
                 f'the training loop), seed {s}'),
        ]
    # MAE-Lite: a ViT-Small MAE teaches the main pretraining's attention
    teacher, student = 'mae_vit-small6-p4_1xb128-20e', 'mae-distill_20e'
    steps += [
        Step(teacher, 'pretrain', MAE_PT, ['model.backbone.arch=small'],
             group='mae_lite', label='MAE ViT-Small (6 blocks), the teacher'),
        Step(student, 'pretrain', MAE_DISTILL, init_from=teacher,
             init_key='model.teacher.init_cfg', group='mae_lite',
             label='MAE ViT-Tiny + attention distillation'),
    ]
    steps += finetunes('ft5e_mae-distill', student, 'mae_lite',
                       'MAE-Lite distilled, then finetuned')
    # pretraining ablations, each followed by the same 5-epoch finetune as
    # the main row 'ft5e_mae'
    ablations = [('mask0.25', ['model.mask_ratio=0.25'], {'mask_ratio': 0.25}),
                 ('mask0.5', ['model.mask_ratio=0.5'], {'mask_ratio': 0.5}),
                 ('mask0.9', ['model.mask_ratio=0.9'], {'mask_ratio': 0.9}),
                 ('no-norm-pix', ['model.head.norm_pix=False'], {}),
                 ('dec1', ['model.neck.decoder_depth=1'], {}),
                 ('dec4', ['model.neck.decoder_depth=4'], {}),
                 ('dec8', ['model.neck.decoder_depth=8'], {})]
    for tag, opts, meta in ablations:
        pt = f'{main}_{tag}'
        steps.append(Step(pt, 'pretrain', MAE_PT, opts, group='ablation',
                          label=tag))
        steps += finetunes(f'ft5e_mae_{tag}', pt, 'ablation', tag,
                           meta=meta)
    # a second *pretraining* seed (the finetune seeds above all start from
    # one checkpoint) for the main row and the best mask ratio; finetune
    # seed 0. Merged param groups here: the same AdamW as the main run's.
    for tag, opts, ratio in [('', [], 0.75),
                             ('_mask0.9', ['model.mask_ratio=0.9'], 0.9)]:
        pt = f'{main}{tag}_pseed1'
        steps.append(Step(pt, 'pretrain', MAE_PT, opts + seeded(1)[1],
                          group='pretrain_seed',
                          label=f'MAE mask {ratio}, pretraining seed 1'))
        steps.append(Step(f'ft5e_mae{tag}_pseed1', 'finetune', FT5,
                          seeded(0)[1], init_from=pt, group='pretrain_seed',
                          label=f'MAE mask {ratio} (pretraining seed 1), '
                          'finetune seed 0',
                          meta=dict(seed=0, pretrain_seed=1)))
    return steps


def grid_digits_smoke(seeds):
    """A seconds-long version of the same chain (tiny ViT, 10% of the
    digits, one epoch each) for tests/test_experiments.py."""
    tiny = ['model.backbone.embed_dim=32', 'model.backbone.depth=2',
            'model.backbone.num_heads=2',
            'train_dataloader.dataset.data_source.val_fraction=0.9',
            'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1']
    dec = ['model.neck.decoder_embed_dim=32', 'model.neck.decoder_depth=1',
           'model.neck.decoder_num_heads=2',
           'default_hooks.checkpoint.interval=2']
    steps = [Step('pt', 'pretrain', DIGITS_PT, tiny + dec, group='pretrain',
                  label='tiny MAE on digits'),
             Step('pt_mask0.5', 'pretrain', DIGITS_PT,
                  tiny + dec + ['model.mask_ratio=0.5'], group='ablation',
                  label='mask0.5')]
    for s in seeds:
        sfx, seed = seeded(s)
        steps += [Step('ft_mae' + sfx, 'finetune', DIGITS_FT, tiny + seed,
                       init_from='pt', group='main',
                       label=f'MAE-pretrained, seed {s}',
                       meta=dict(mask_ratio=0.75, seed=s)),
                  Step('ft_scratch' + sfx, 'finetune', DIGITS_SCRATCH,
                       tiny + seed, group='main',
                       label=f'random init, seed {s}', meta=dict(seed=s))]
    steps.append(Step('ft_mae_mask0.5', 'finetune', DIGITS_FT, tiny,
                      init_from='pt_mask0.5', group='ablation',
                      label='mask0.5', meta=dict(mask_ratio=0.5, seed=0)))
    return steps


GRIDS = {'cifar10': grid_cifar10, 'digits-smoke': grid_digits_smoke,
         'lite-study': grid_lite_study, 'vit-bert': grid_vit_bert}
