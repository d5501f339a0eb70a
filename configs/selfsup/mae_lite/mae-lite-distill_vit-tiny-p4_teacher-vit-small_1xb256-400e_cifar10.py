# MAE-Lite with attention distillation: a frozen MAE-pretrained ViT-Small
# (6 heads) teaches the Tiny student's last-layer attention maps on the same
# visible patches (MSE, weight 1; a 1x1 conv maps 12 student heads to 6).
# Pretrain the teacher first, e.g. with
#   tools/train.py configs/selfsup/mae/mae_vit-small-p4_1xb256-200e_cifar10.py
# (its last checkpoint is the default below), or point the teacher at another:
#   --cfg-options model.teacher.init_cfg.checkpoint=work_dirs/.../epoch_200.pth
_base_ = ['./mae-lite_vit-tiny-p4_1xb256-400e_cifar10.py']
model = dict(
    type='MAEAttentionDistill',
    teacher=dict(type='VisionTransformer', arch='small', img_size=32,
                 patch_size=4,
                 init_cfg=dict(type='Pretrained',
                               checkpoint='work_dirs/mae_vit-small-p4_'
                               '1xb256-200e_cifar10/epoch_200.pth')),
    student_layers=(-1,),
    teacher_layers=(-1,),
    distill_weight=1.0,
)
