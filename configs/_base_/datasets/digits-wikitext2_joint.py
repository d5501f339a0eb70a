# Unpaired images and text, a batch of each every step: scikit-learn's
# digits (32 px, labels; an epoch is one pass over them) and WikiText-2's
# validation + test text packed into 128-token blocks (an endless stream
# across epochs), 32 + 32 examples a step and process. The text lives in
# the shared data folder beside the checkout; the vocabulary is the one
# configs/selfsup/bert/bert_bert-mini_1xb32-2kiter_wikitext2.py builds.
vocab_file = 'work_dirs/vocab/wikitext2-wordpiece-8k.json'
text_root = '../shared/data/text'
text_files = ['wikitext2/valid.txt', 'wikitext2/test.txt']
max_length = 128
image_per_step = 32
text_per_step = 32
image_pipeline = [
    dict(type='RandomResizedCrop', size=32, scale=(0.6, 1.0),
         ratio=(0.8, 1.25), interpolation='bicubic'),
    dict(type='PackInputs'),
]
text_pipeline = [
    dict(type='TokenizeText', vocab_file=vocab_file, max_length=max_length),
    dict(type='PackTextInputs'),
]
train_dataloader = dict(
    batch_size=image_per_step + text_per_step,
    num_workers=0,
    sampler=dict(type='JointSampler', image_per_step=image_per_step,
                 text_per_step=text_per_step, shuffle=True),
    collate_fn=dict(type='joint_collate'),
    drop_last=True,
    dataset=dict(
        type='JointDataset',
        image=dict(
            type='PipelineDataset',
            data_source=dict(type='Digits', split='train', img_size=32),
            pipeline=image_pipeline),
        text=dict(
            type='PipelineDataset',
            data_source=dict(type='LineCorpus', files=text_files,
                             data_root=text_root, unk_marker='<unk>',
                             pack_tokens=max_length, vocab_file=vocab_file,
                             holdout=0.02, split='train'),
            pipeline=text_pipeline)))
# validation: image top-1 of the student's own head on held-out digits
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='PipelineDataset',
        data_source=dict(type='Digits', split='val', img_size=32),
        pipeline=[dict(type='PackInputs')]))
val_evaluator = dict(type='Accuracy', topk=(1, ))
