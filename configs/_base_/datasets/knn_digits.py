# kNN evaluation (tools/knn_eval.py) on the embedded digits: the train split
# is the bank, the val split is scored; no augmentation.
_knn_loader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='PipelineDataset',
                 data_source=dict(type='Digits', split='train', img_size=32),
                 pipeline=[dict(type='PackInputs')]))
knn_eval = dict(
    k=20, temperature=0.07,
    train_dataloader=_knn_loader,
    val_dataloader=dict(
        _knn_loader,
        dataset=dict(_knn_loader['dataset'],
                     data_source=dict(type='Digits', split='val',
                                      img_size=32))))
