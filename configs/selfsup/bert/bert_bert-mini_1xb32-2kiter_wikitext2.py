# BERT-Mini (4 layers x 256, 4 heads; Turc et al. 2019) masked language
# modelling on the CPU: WikiText-2's validation + test text (455k words,
# in the shared data folder beside the checkout), sentences packed into
# 128-token blocks, an 8k WordPiece vocabulary built from the same text,
# the last 2% of the articles held out for masked-token accuracy and
# perplexity. Far too little text for a useful encoder; it exercises the
# whole path and gives the SST-2 finetune a checkpoint.
#   python tools/build_vocab.py ../shared/data/text/wikitext2/valid.txt \
#       ../shared/data/text/wikitext2/test.txt --vocab-size 8000 \
#       --unk-marker '<unk>' --out work_dirs/vocab/wikitext2-wordpiece-8k.json
#   python tools/train.py \
#       configs/selfsup/bert/bert_bert-mini_1xb32-2kiter_wikitext2.py
# Elsewhere: --cfg-options data_root=... (then also the two data_source
# data_root keys), and the vocabulary path in model, both data sources and
# both pipelines.
_base_ = [
    '../../_base_/models/bert-base_mlm.py',
    '../../_base_/schedules/adamw_linear_bert_pretrain.py',
    '../../_base_/text_runtime.py',
]
data_root = '../shared/data/text'
vocab_file = 'work_dirs/vocab/wikitext2-wordpiece-8k.json'
corpus_files = ['wikitext2/valid.txt', 'wikitext2/test.txt']
max_length = 128
model = dict(
    vocab_file=vocab_file,
    backbone=dict(vocab_size=8000, max_position_embeddings=max_length,
                  embed_dim=256, depth=4, num_heads=4))
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
        data_source=dict(type='LineCorpus', files=corpus_files,
                         data_root=data_root, unk_marker='<unk>',
                         pack_tokens=max_length, vocab_file=vocab_file,
                         holdout=0.02, split='train'),
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='LineCorpus', files=corpus_files,
                         data_root=data_root, unk_marker='<unk>',
                         pack_tokens=max_length, vocab_file=vocab_file,
                         holdout=0.02, split='holdout'),
        pipeline=pipeline))
val_evaluator = dict(type='MaskedLMMetric')
# a small model on a small corpus takes a larger step than BERT-base's
optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=32)
warmup_iters = 200
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=500, max_keep_ckpts=2))
log_processor = dict(window_size=20)
