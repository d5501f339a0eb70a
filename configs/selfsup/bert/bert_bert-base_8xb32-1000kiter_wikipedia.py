# BERT-base masked language modelling, the paper's recipe (Devlin et al.
# 2019): 256 sequences a step (8 GPUs x 32) of up to 512 tokens, 1M steps
# (~40 epochs of 3.3B words), AdamW lr 1e-4, 10k warm-up steps, linear
# decay; 15% masked, no next-sentence prediction (see docs/bert.md).
# The paper trains 90% of the steps at 128 tokens and the last 10% at 512;
# run that as two configs (max_length 128, then 512 with load_from).
# Data: English Wikipedia (+ BooksCorpus), one paragraph a line, and a
# 30,522-token uncased WordPiece vocabulary:
#   python tools/build_vocab.py data/wikipedia/*.txt --vocab-size 30522 \
#       --out data/wikipedia/vocab.json
#   torchrun --nproc_per_node=8 tools/train.py \
#       configs/selfsup/bert/bert_bert-base_8xb32-1000kiter_wikipedia.py \
#       --launcher pytorch --amp
_base_ = [
    '../../_base_/models/bert-base_mlm.py',
    '../../_base_/schedules/adamw_linear_bert_pretrain.py',
    '../../_base_/text_runtime.py',
]
data_root = 'data/wikipedia'
vocab_file = 'data/wikipedia/vocab.json'
corpus_files = ['wiki_en.txt']
max_length = 512
model = dict(vocab_file=vocab_file)
pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=max_length),
    dict(type='PackTextInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='LineCorpus', files=corpus_files,
                         data_root=data_root, pack_tokens=max_length,
                         vocab_file=vocab_file, holdout=0.001,
                         split='train'),
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='LineCorpus', files=corpus_files,
                         data_root=data_root, pack_tokens=max_length,
                         vocab_file=vocab_file, holdout=0.001,
                         split='holdout'),
        pipeline=pipeline))
val_evaluator = dict(type='MaskedLMMetric')
