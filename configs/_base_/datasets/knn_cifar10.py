# kNN evaluation (tools/knn_eval.py) on CIFAR-10 JPEG folders: train is the
# bank, val is scored, images as they are (32 px).
_knn_loader = dict(
    batch_size=512,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='PipelineDataset',
                 data_source=dict(type='ImageFolder',
                                  root='data/cifar10/train'),
                 pipeline=[dict(type='LoadImage', backend='cv2'),
                           dict(type='PackInputs')]))
knn_eval = dict(
    k=20, temperature=0.07,
    train_dataloader=_knn_loader,
    val_dataloader=dict(
        _knn_loader,
        dataset=dict(_knn_loader['dataset'],
                     data_source=dict(type='ImageFolder',
                                      root='data/cifar10/val'))))
