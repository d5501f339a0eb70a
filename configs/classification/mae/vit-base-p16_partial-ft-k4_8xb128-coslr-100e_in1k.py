# MAE partial finetuning of ViT-B/16 (paper, Fig. 9): only the last k blocks,
# the final norm and the head learn; patch embedding, positions, cls token
# and the first 12 - k blocks stay as pretrained. k is
# model.train_last_blocks (--cfg-options model.train_last_blocks=2). The rest
# of the recipe is the full finetune's.
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'
model = dict(train_last_blocks=4)
