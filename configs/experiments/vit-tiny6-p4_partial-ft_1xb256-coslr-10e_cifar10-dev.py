# Results-page partial finetune: the results-page finetune recipe, but only
# the last k of the 6 blocks (plus fc_norm and the head) learn. k = 0
# trains the head on frozen, globally pooled features. Set k with
#   --cfg-options model.train_last_blocks=K
_base_ = './vit-tiny6-p4_1xb256-coslr-10e_cifar10-dev.py'
model = dict(train_last_blocks=2)
