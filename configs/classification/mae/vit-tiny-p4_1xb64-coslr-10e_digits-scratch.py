# The embedded-default finetune recipe from random initialisation: the
# baseline that shows what MAE pretraining adds (tools/main_job.py prints
# both top-1s).
_base_ = './vit-tiny-p4_1xb64-coslr-10e_digits.py'
model = dict(backbone=dict(init_cfg=None))
