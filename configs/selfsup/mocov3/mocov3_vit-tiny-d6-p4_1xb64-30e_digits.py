# MoCo v3 on the embedded digits (no download): a 6-block ViT-Tiny, small
# MLPs (1024 hidden, 128 out), a short schedule; minutes on 2 CPU cores.
# tools/knn_eval.py scores it on the digits' val split.
_base_ = [
    '../../_base_/models/mocov3_vit-small-p16.py',
    '../../_base_/datasets/digits_mocov3.py',
    '../../_base_/datasets/knn_digits.py',
    '../../_base_/schedules/adamw_coslr_mocov3_pretrain.py',
    '../../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(_delete_=True, type='VisionTransformer', arch='tiny',
                  depth=6, img_size=32, patch_size=4),
    projector=dict(hidden_channels=1024, out_channels=128),
    predictor=dict(hidden_channels=1024, out_channels=128))
# a 64-image batch is small: a larger base lr than ImageNet's 1.5e-4
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=10)
