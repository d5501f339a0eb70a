# Results-page SimMIM, to set beside the MAE pretraining of
# mae_vit-tiny-d6-p4_1xb128-20e_cifar10-dev.py at equal wall-clock: the same
# 6-block ViT-Tiny, batch and data, SimMIM's own recipe (60% of 8 px blocks
# masked, 1x1-conv decoder, L1 loss, AdamW (0.9, 0.999), warm-up then one
# x0.1 step at 7/8, grad clip 5). Its encoder sees all 64 patches, so a
# step costs 2.1x MAE's (benchmarks/train_step.py, 1 thread, bf16: 63 vs
# 131 img/s): 10 epochs here take about as long as MAE's 20.
_base_ = '../selfsup/simmim/simmim_vit-tiny-p4_1xb256-200e_cifar10.py'
model = dict(backbone=dict(depth=6))
train_dataloader = dict(batch_size=128)
warmup_epochs = 1
# the milestone counts from the warm-up's end: epoch 1 + 9 = the last
# epoch's end, so this recipe (and its recorded runs) never takes the x0.1
# step; kept as it ran
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-3, by_epoch=True, begin=0,
         end='warmup', convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[9], gamma=0.1, by_epoch=True,
         begin='warmup', end='max', convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=10)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
