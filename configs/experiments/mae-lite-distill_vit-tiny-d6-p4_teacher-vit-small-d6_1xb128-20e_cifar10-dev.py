# MAE-Lite's attention distillation at the results-page scale: the main MAE
# pretraining (mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev.py, unchanged) plus a
# frozen MAE-pretrained 6-block ViT-Small teacher (384-d, 6 heads) whose
# last-layer attention maps the student's follow on the same visible
# patches (MSE, weight 1; a 1x1 conv maps the student's 3 heads to 6).
# The teacher is the results grid's step mae_vit-small6-p4_1xb128-20e
# (the same recipe at ViT-Small width); tools/experiments/run_results.py
# passes its checkpoint as model.teacher.init_cfg.checkpoint.
_base_ = './mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev.py'
model = dict(
    type='MAEAttentionDistill',
    teacher=dict(type='VisionTransformer', arch='small', depth=6,
                 img_size=32, patch_size=4,
                 init_cfg=dict(type='Pretrained',
                               checkpoint='work_dirs/results/'
                               'mae_vit-small6-p4_1xb128-20e/epoch_20.pth')),
    student_layers=(-1, ),
    teacher_layers=(-1, ),
    distill_weight=1.0,
)
