"""The experiments behind docs/results.md, as data: every step (one
``tools/train.py`` run) with its config, options and what it starts from.
``run_results.py`` runs them; this file only says what they are.

A grid is a function of the seeds that returns its steps, most important
first; ``GRIDS`` names them for ``run_results.py --grid``. Step names are
the work dirs and results.json keys of the recorded runs, so they keep the
names they ran under even where a config has since been renamed.
"""

EXP = 'configs/experiments/'
MAE_PT = EXP + 'mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev.py'
FT = EXP + 'vit-tiny-d6-p4_1xb256-coslr-10e_cifar10-dev.py'
FT_SCRATCH = EXP + 'vit-tiny-d6-p4_scratch_1xb256-coslr-10e_cifar10-dev.py'
FT5 = EXP + 'vit-tiny-d6-p4_1xb256-coslr-5e_cifar10-dev.py'
FT5_SCRATCH = EXP + 'vit-tiny-d6-p4_scratch_1xb256-coslr-5e_cifar10-dev.py'
LINEAR = EXP + 'vit-tiny-d6-p4_linear-probe_1xb256-coslr-10e_cifar10-dev.py'
PARTIAL = EXP + 'vit-tiny-d6-p4_partial-ft-k2_1xb256-coslr-5e_cifar10-dev.py'
MAE_DISTILL = EXP + ('mae-lite-distill_vit-tiny-d6-p4_teacher-vit-small-d6_'
                     '1xb128-20e_cifar10-dev.py')
SIMMIM_PT = EXP + 'simmim_vit-tiny-d6-p4_1xb128-10e_cifar10-dev.py'
FLIP_PT = EXP + 'flip_vit-tiny-d4-p4_1xb64-12e_cifar10-dev-captions.py'
CLIP_PT = EXP + 'clip_vit-tiny-d4-p4_1xb64-7e_cifar10-dev-captions.py'
CLIP8_PT = EXP + 'clip_vit-tiny-d4-p4_1xb64-8e_cifar10-dev-captions.py'

# the lightweight-ViT study (section 5)
MAE14_PT = EXP + 'mae_vit-tiny-d6-p4_1xb128-14e_cifar10-dev.py'
MOCOV3_PT = EXP + 'mocov3_vit-tiny-d6-p4_1xb128-2e_cifar10-dev.py'
DINO_PT = EXP + 'dino_vit-tiny-d6-p4_1xb128-1e_cifar10-dev.py'
KNN = EXP + 'knn_vit-tiny-d6-p4_cifar10-dev.py'

# the ViT-BERT ablation (section 4)
VB = 'configs/selfsup/vit_bert/'
VB_TEACHER_IMAGE = VB + 'teacher_vit-tiny-d6-p4_1xb32-2kiter_digits.py'
VB_TEACHER_TEXT = VB + 'teacher_bert-mini_1xb32-2kiter_wikitext2.py'
VB_JOINT = VB + 'vit-bert_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py'
VB_KD = VB + 'vit-bert-kd_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py'
VB_KD_GM = VB + ('vit-bert-kd-gm_vit-tiny-d6-p4_1xb32i32t-2kiter_'
                 'digits-wikitext2.py')
VB_DIGITS = ('configs/classification/vit_bert/'
             'vit-tiny-d6-p4_vit-bert-pre_1xb64-coslr-10e_digits.py')
VB_SST2 = ('configs/classification/vit_bert/'
           'bert-vit-tiny-d6_vit-bert-pre_1xb32-10e_sst2-1k.py')
BERT_SST2 = 'configs/classification/bert/bert-mini_1xb32-10e_sst2-1k.py'
VOCAB = 'work_dirs/vocab/wikitext2-wordpiece-8k.json'

DIGITS_PT = 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'
DIGITS_FT = ('configs/classification/mae/'
             'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py')
DIGITS_SCRATCH = ('configs/classification/mae/'
                  'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py')


class Step:
    """One training run. ``init_from`` names the pretrain step whose final
    checkpoint initialises this run's backbone; ``init_epoch`` takes that
    step's epoch-N checkpoint instead, which the scheduler copies to
    ``<work>/snapshots/<step>_epoch_N.pth`` as soon as it is written (before
    checkpoint rotation removes it), so the run starts while its pretrain
    goes on."""

    def __init__(self, name, kind, config, opts=(), init_from=None,
                 group='', label='', meta=None, init_epoch=None,
                 captions=False, init_key='model.backbone.init_cfg',
                 data='cifar10', prefix=None, also_from=()):
        # knn: tools/knn_eval.py on init_from's checkpoint (``prefix`` picks
        # the encoder in it), not a training run
        assert kind in ('pretrain', 'finetune', 'knn')
        # 'cifar10': the dev archive's folders are filled in; 'own': the
        # config's data as it is (e.g. the embedded digits)
        self.data, self.prefix = data, prefix
        # image-text pretraining: the images sit one level deeper (a
        # ClassCaptions source wraps the ImageFolder) and it is evaluated
        # (zero-shot) on the val split
        self.captions = captions
        # which part the init_from checkpoint initialises
        self.init_key = init_key
        # more (key, step) pairs read the same way: e.g. a distilling
        # student's two teachers, each another step's final checkpoint
        self.also_from = [tuple(pair) for pair in also_from]
        self.name, self.kind, self.config = name, kind, config
        self.opts, self.init_from = list(opts), init_from
        self.init_epoch = init_epoch
        self.group, self.label = group, label
        # what the plots group by, e.g. {'mask_ratio': 0.5} on the finetunes
        # whose pretraining differs from the main one only in that
        self.meta = dict(meta or {})


# ----------------------------------------------------------------- grids --

def seeded(seed):
    """Name suffix and options of one seed: seed 0 keeps the plain name
    (the rows recorded first), others get ``_seed<N>``."""
    return ('' if seed == 0 else f'_seed{seed}'), [f'randomness.seed={seed}']


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


def grid_lite_study(seeds):
    """MAE-Lite's comparison at this scale: MAE, MoCo v3 and DINO
    pretrained for the same wall-clock, and a supervised ViT (the 5-epoch
    finetune recipe from random init, which is also the finetune table's
    random-init row), each evaluated by kNN on frozen features, by
    finetuning on all 10,000 dev images, on 1,000 of them (100 per class)
    and on the digits (another domain), and (MAE, MoCo v3) by finetuning
    only their first k blocks. Evaluations of the most telling
    kind first, so a stopped run leaves whole comparisons."""
    pre = {'mae': ('study_mae-14e', MAE14_PT, None,
                   'MAE, 14 epochs'),
           'mocov3': ('study_mocov3-2e', MOCOV3_PT, None,
                      'MoCo v3, 2 epochs (base encoder)'),
           'dino': ('study_dino-1e', DINO_PT, 'teacher.backbone.',
                    'DINO, 1 epoch (teacher)')}
    supervised = 'study_supervised-5e'
    steps = [Step(name, 'pretrain', cfg, group='study_pretrain', label=label)
             for name, cfg, _, label in pre.values()]
    steps.insert(2, Step(supervised, 'finetune', FT5_SCRATCH, seeded(0)[1],
                         group='study_pretrain',
                         label='supervised, 5 epochs from random init',
                         meta=dict(method='supervised', seed=0)))

    def init_opts(prefix):
        return [f'model.backbone.init_cfg.prefix={prefix}'] if prefix else []

    inits = [(m, n, p) for m, (n, _, p, _) in pre.items()]
    for m, name, prefix in inits + [('supervised', supervised, None)]:
        # the classifier pools by averaging (its final norm is fc_norm);
        # the pretrained encoders are read at the class token
        pool = ['model.backbone.global_pool=avg'] if m == 'supervised' \
            else []
        steps.append(Step(f'study_knn_{m}', 'knn', KNN, pool, init_from=name,
                          prefix=prefix, group='study_knn',
                          label=f'kNN, {m}', meta=dict(method=m)))
    few = ['train_dataloader.dataset.data_source.per_class=100',
           'train_dataloader.batch_size=64', 'train_cfg.max_epochs=20',
           'train_cfg.val_interval=5', 'warmup_epochs=2',
           'default_hooks.checkpoint.interval=20']
    def finetunes(s):
        """One seed's finetunes: 1,000 images, the digits, all images."""
        sfx, seed = seeded(s)
        out = []
        for m, name, prefix in inits + [('scratch', None, None)]:
            config = FT5_SCRATCH if name is None else FT5
            out.append(Step(
                f'study_ft1k_{m}{sfx}', 'finetune', config,
                few + seed + init_opts(prefix), init_from=name,
                group='study_ft1k', label=f'1,000 images, {m}, seed {s}',
                meta=dict(method=m, seed=s)))
        for m, name, prefix in inits + [('supervised', supervised, None),
                                        ('scratch', None, None)]:
            config = DIGITS_SCRATCH if name is None else DIGITS_FT
            out.append(Step(
                f'study_digits_{m}{sfx}', 'finetune', config,
                seed + init_opts(prefix), init_from=name, data='own',
                group='study_digits', label=f'digits, {m}, seed {s}',
                meta=dict(method=m, seed=s)))
        out += [Step(f'study_ft5e_{m}{sfx}', 'finetune', FT5,
                     seed + init_opts(prefix), init_from=name,
                     group='study_ft', label=f'10,000 images, {m}, seed {s}',
                     meta=dict(method=m, seed=s, blocks=6))
                for m, name, prefix in inits]
        # MAE-Lite's "keep the first k blocks": a k-block encoder from the
        # pretrained one's first k blocks, finetuned on all images
        out += [Step(f'study_ft5e_{m}_first{k}{sfx}', 'finetune', FT5,
                     seed + init_opts(prefix) + [
                         f'model.backbone.depth={k}',
                         'model.backbone.init_cfg.keep_first_blocks=True'],
                     init_from=name, group='study_first_k',
                     label=f'first {k} blocks, {m}, seed {s}',
                     meta=dict(method=m, seed=s, blocks=k))
                for m, name, prefix in inits[:2] for k in (1, 2, 4)]
        return out

    for s in seeds:
        steps += finetunes(s)
    return steps


def grid_vit_bert(seeds):
    """Li et al.'s ablation at CPU size: the two teachers trained
    separately for the students' 800 steps (a supervised ViT on digits,
    BERT-Mini masked-LM on WikiText-2), then one shared encoder
    trained jointly on both for 800 steps, without and with distillation
    and gradient masking, a sweep of the masking's final sparsity beta and
    one other distillation (alpha, tau). Every model is finetuned on the
    digits and on 1,000 SST-2 phrases; the separate models the same way."""
    # the 2,000-step recipes cut to 800 steps (warm-up and mask schedule
    # cut in proportion), the budget of the label-free row
    short = ['train_cfg.max_iters=800', 'warmup_iters=80',
             'default_hooks.checkpoint.interval=800',
             'train_cfg.val_interval=800']
    gm = ['optim_wrapper.start_iter=200', 'optim_wrapper.interval=80']
    teachers = [('model.image_teacher', 'vb_teacher_image'),
                ('model.text_teacher', 'vb_teacher_text')]
    students = [
        ('joint', VB_JOINT, [], 'joint'),
        ('kd', VB_KD, [], 'joint + KD (alpha 0.5, tau 1)'),
        ('kd-gm', VB_KD_GM, gm, 'joint + KD + masking (beta 0.5)'),
        ('kd-gm_beta0.3', VB_KD_GM, gm + ['optim_wrapper.beta=0.3'],
         'joint + KD + masking (beta 0.3)'),
        ('kd-gm_beta0.7', VB_KD_GM, gm + ['optim_wrapper.beta=0.7'],
         'joint + KD + masking (beta 0.7)'),
        ('kd-gm_alpha0.1-tau4', VB_KD_GM,
         gm + ['model.alpha=0.1', 'model.tau=4.0'],
         'joint + KD (alpha 0.1, tau 4) + masking (beta 0.5)')]
    # each teacher: the students' 800 steps of one modality, on its own
    steps = [Step('vb_teacher_image', 'pretrain', VB_TEACHER_IMAGE, short,
                  data='own', group='vb_pretrain',
                  label='separate ViT: supervised on digits, 800 steps'),
             Step('vb_teacher_text', 'pretrain', VB_TEACHER_TEXT, short,
                  data='own', group='vb_pretrain',
                  label='separate BERT-Mini: masked LM, 800 steps')]
    vocab = [f'{k}={VOCAB}' for k in (
        'model.vocab_file', 'train_dataloader.dataset.pipeline.0.vocab_file',
        'val_dataloader.dataset.pipeline.0.vocab_file',
        'test_dataloader.dataset.pipeline.0.vocab_file')]
    for s in seeds:
        sfx, seed = seeded(s)
        for key, config, opts, label in students:
            name = f'vb_{key}{sfx}'
            kd = config != VB_JOINT
            steps.append(Step(name, 'pretrain', config, short + opts + seed,
                              data='own', group='vb_pretrain',
                              label=f'{label}, seed {s}',
                              also_from=teachers if kd else (),
                              meta=dict(student=key, seed=s)))
            steps += [
                Step(f'vb_digits_{key}{sfx}', 'finetune', VB_DIGITS, seed,
                     init_from=name, data='own', group='vb_digits',
                     label=f'digits, {label}, seed {s}',
                     meta=dict(student=key, seed=s)),
                Step(f'vb_sst2_{key}{sfx}', 'finetune', VB_SST2,
                     vocab + seed, init_from=name, data='own',
                     group='vb_sst2', label=f'SST-2 1k, {label}, seed {s}',
                     meta=dict(student=key, seed=s))]
            if key == 'joint':  # the separate models, evaluated the same way
                steps += [
                    Step(f'vb_digits_separate{sfx}', 'finetune', DIGITS_FT,
                         seed, init_from='vb_teacher_image', data='own',
                         group='vb_digits',
                         label=f'digits, separate ViT, seed {s}',
                         meta=dict(student='separate', seed=s)),
                    Step(f'vb_sst2_separate{sfx}', 'finetune', BERT_SST2,
                         vocab + seed, init_from='vb_teacher_text',
                         data='own',
                         group='vb_sst2',
                         label=f'SST-2 1k, separate BERT-Mini, seed {s}',
                         meta=dict(student='separate', seed=s))]
    return steps


GRIDS = {'cifar10': grid_cifar10, 'digits-smoke': grid_digits_smoke,
         'lite-study': grid_lite_study, 'vit-bert': grid_vit_bert}
