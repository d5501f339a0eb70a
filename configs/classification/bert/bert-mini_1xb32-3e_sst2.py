# SST-2 sentiment finetuning of the CPU BERT-Mini (GLUE's SST-2, in the
# shared data folder): the whole 67,349-phrase train set, evaluated on the
# 872-sentence dev set; [CLS] + BERT's pooler + dropout + linear head, lr
# warmed up over the first tenth of the steps then decayed linearly,
# 3 epochs (6,312 steps).
# The encoder comes from the MLM run's last checkpoint, the vocabulary from
# the copy TextVocabHook left beside it:
#   python tools/train.py \
#       configs/classification/bert/bert-mini_1xb32-3e_sst2.py
# Another checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=...
# (and the vocab_file keys, if it has another vocabulary).
_base_ = [
    '../../_base_/schedules/adamw_layer-decay_linear_bert_finetune.py',
    '../../_base_/text_runtime.py',
]
pretrain_dir = 'work_dirs/bert_bert-mini_1xb32-2kiter_wikitext2'
vocab_file = pretrain_dir + '/vocab.json'
data_root = '../shared/data/text'
max_length = 64
model = dict(
    type='TextClassifier',
    vocab_file=vocab_file,
    pool='cls',
    pooler=True,
    dropout=0.1,
    backbone=dict(
        type='BertEncoder', vocab_size=8000, max_position_embeddings=128,
        embed_dim=256, depth=4, num_heads=4, post_norm=True,
        init_cfg=dict(type='Pretrained',
                      checkpoint=pretrain_dir + '/iter_2000.pth')),
    head=dict(type='LinearClsHead', num_classes=2))
pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=max_length),
    dict(type='PackTextInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='TextClassification', data_root=data_root,
                         ann_file='sst2/train.tsv'),
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='TextClassification', data_root=data_root,
                         ann_file='sst2/dev.tsv'),
        pipeline=pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
# small encoders take larger steps than BERT-base's 2e-5 (Turc et al.)
optim_wrapper = dict(optimizer=dict(lr=1e-4),
                     paramwise_cfg=dict(layer_decay_rate=0.9))
# 2,104 steps an epoch: evaluate and save once an epoch
default_hooks = dict(checkpoint=dict(interval=2104, max_keep_ckpts=1))
