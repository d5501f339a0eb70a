"""The lightweight-ViT study (docs/results.md section 5) as steps."""
from config_paths import (
    DIGITS_FT,
    DIGITS_SCRATCH,
    DINO_PT,
    FT5,
    FT5_SCRATCH,
    KNN,
    LINEAR,
    MAE14_PT,
    MOCOV3_PT,
    SIMMIM6_PT,
)
from step import Step, seeded


def grid_lite_study(seeds):
    """MAE-Lite's comparison at this scale: MAE, MoCo v3, DINO and
    SimMIM pretrained for the same wall-clock, and a supervised ViT (the
    5-epoch finetune recipe from random init, which is also the finetune
    table's random-init row), each evaluated on frozen features (kNN and a
    linear probe), by finetuning on all 10,000 dev images, on 1,000 of
    them (100 per class) and on the digits (another domain), and (MAE,
    MoCo v3) by finetuning only their first k blocks. Evaluations of the
    most telling kind first, so a stopped run leaves whole comparisons."""
    pre = {'mae': ('study_mae-14e', MAE14_PT, None,
                   'MAE, 14 epochs'),
           'mocov3': ('study_mocov3-2e', MOCOV3_PT, None,
                      'MoCo v3, 2 epochs (base encoder)'),
           'dino': ('study_dino-1e', DINO_PT, 'teacher.backbone.',
                    'DINO, 1 epoch (teacher)'),
           # keep MAE and MoCo v3 first: the first-k steps take inits[:2]
           'simmim': ('study_simmim-6e', SIMMIM6_PT, None,
                      'SimMIM, 6 epochs')}
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
    # the frozen-feature evaluations read every encoder as it was trained:
    # the classifier pools by averaging (its final norm is fc_norm), the
    # pretrained encoders are read at the class token
    frozen = [(m, name, prefix,
               ['model.backbone.global_pool=avg'] if m == 'supervised' else [])
              for m, name, prefix in inits + [('supervised', supervised,
                                                None)]]
    for m, name, prefix, pool in frozen:
        steps.append(Step(f'study_knn_{m}', 'knn', KNN, pool, init_from=name,
                          prefix=prefix, group='study_knn',
                          label=f'kNN, {m}', meta=dict(method=m)))
    for m, name, prefix, pool in frozen:
        steps.append(Step(f'study_linear_{m}', 'finetune', LINEAR,
                          pool + seeded(0)[1] + init_opts(prefix),
                          init_from=name, group='study_linear',
                          label=f'linear probe, {m}', meta=dict(method=m)))
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
        # the same k-block encoders from random init: what a shallow model
        # reaches in 5 epochs without pretraining
        out += [Step(f'study_ft5e_scratch_first{k}{sfx}', 'finetune',
                     FT5_SCRATCH, seed + [f'model.backbone.depth={k}'],
                     group='study_first_k',
                     label=f'{k} blocks, random init, seed {s}',
                     meta=dict(method='scratch', seed=s, blocks=k))
                for k in (1, 2, 4)]
        return out

    for s in seeds:
        steps += finetunes(s)
    return steps
