# Finetune the text path of a joint image + text student (ViTBERT) on the
# 1,000-phrase SST-2 subset: its text embeddings + shared encoder are a
# pre-norm BertEncoder (192-d, 6 blocks, 3 heads, LayerNorm eps 1e-6 as
# the ViT's); `Pretrained` recognises the joint layout and drops the
# image tokenizer and the task heads.
_base_ = ['../bert/bert-mini_1xb32-10e_sst2-1k.py']
pretrain_dir = ('work_dirs/vit-bert-kd-gm_vit-tiny-d6-p4_1xb32i32t-2kiter_'
                'digits-wikitext2')
vocab_file = pretrain_dir + '/vocab.json'
pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=64),
    dict(type='PackTextInputs'),
]
model = dict(
    vocab_file=vocab_file,
    backbone=dict(
        embed_dim=192, depth=6, num_heads=3, post_norm=False,
        layer_norm_eps=1e-6, max_position_embeddings=128,
        init_cfg=dict(type='Pretrained',
                      checkpoint=pretrain_dir + '/iter_2000.pth')))
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
