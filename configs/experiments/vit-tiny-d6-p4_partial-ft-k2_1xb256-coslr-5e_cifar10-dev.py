# Results-page partial finetune: the 5-epoch results-page finetune, but only
# the last k of the 6 blocks (plus fc_norm and the head) learn, so its rows
# line up with the full 5-epoch finetune (k = 6). k = 0 trains the head on
# frozen, globally pooled features. Set k with
#   --cfg-options model.train_last_blocks=K
_base_ = './vit-tiny-d6-p4_1xb256-coslr-5e_cifar10-dev.py'
model = dict(train_last_blocks=2)
