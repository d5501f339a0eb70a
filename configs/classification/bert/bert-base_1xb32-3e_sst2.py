# SST-2 finetuning of BERT-base as the paper (Devlin et al. 2019, section
# 4.1): batch 32, 3 epochs, lr 2e-5 (the paper's grid: 2e-5..5e-5, picked
# on dev), warm-up over the first tenth, [CLS] + pooler + dropout 0.1 +
# linear head, max 128 tokens. The encoder: the MLM recipe's checkpoint,
# or an HF transformers BERT (`bert.*` keys convert on load) with its
# vocab.txt as vocab_file.
_base_ = ['./bert-mini_1xb32-3e_sst2.py']
pretrain_dir = 'work_dirs/bert_bert-base_8xb32-1000kiter_wikipedia'
vocab_file = 'data/wikipedia/vocab.json'
max_length = 128
model = dict(
    vocab_file=vocab_file,
    backbone=dict(
        vocab_size=30522, max_position_embeddings=512, embed_dim=768,
        depth=12, num_heads=12,
        init_cfg=dict(checkpoint=pretrain_dir + '/iter_1000000.pth')))
pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=max_length),
    dict(type='PackTextInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2e-5),
                     paramwise_cfg=dict(layer_decay_rate=1.0))
