"""The configs the experiment grids run, and the shared vocabulary file
the text steps read."""

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
SIMMIM6_PT = EXP + 'simmim_vit-tiny-d6-p4_1xb128-6e_cifar10-dev.py'
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
