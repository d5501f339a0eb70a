# Partial finetuning on the embedded default: only the last k = 2 of the 6
# blocks (plus fc_norm and the head) learn. Change k with
#   --cfg-options model.train_last_blocks=K
_base_ = './vit-tiny-d6-p4_1xb64-coslr-10e_digits.py'
model = dict(train_last_blocks=2)
