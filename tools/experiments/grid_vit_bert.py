"""The ViT-BERT ablation (docs/results.md section 4b) as steps."""
from config_paths import (
    BERT_SST2,
    DIGITS_FT,
    VB_DIGITS,
    VB_JOINT,
    VB_KD,
    VB_KD_GM,
    VB_SST2,
    VB_TEACHER_IMAGE,
    VB_TEACHER_TEXT,
    VOCAB,
)
from step import Step, seeded


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
