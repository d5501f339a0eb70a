# SST-2 finetuning of the CPU BERT-Tiny (2 x 128) pretrained by
# bert_bert-tiny_1xb32-4kiter_wikitext2.py: the shipped BERT-Mini SST-2
# recipe (all 67,349 phrases, 3 epochs of 2,104 steps, [CLS] + pooler,
# lr 1e-4 with layer decay 0.9, a tenth warm-up) on the narrower encoder.
#   python tools/train.py configs/experiments/bert-tiny_1xb32-3e_sst2.py --amp
_base_ = ['../classification/bert/bert-mini_1xb32-3e_sst2.py']
pretrain_dir = 'work_dirs/bert_bert-tiny_1xb32-4kiter_wikitext2'
vocab_file = pretrain_dir + '/vocab.json'
model = dict(
    vocab_file=vocab_file,
    backbone=dict(embed_dim=128, depth=2, num_heads=2,
                  init_cfg=dict(type='Pretrained',
                                checkpoint=pretrain_dir + '/iter_4000.pth')))
pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=64),
    dict(type='PackTextInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
