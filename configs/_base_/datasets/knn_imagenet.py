# kNN evaluation (tools/knn_eval.py) on ImageNet-1k as DINO's eval_knn.py:
# Resize(256, bicubic) + CenterCrop(224); the train bank of 1.28M images is
# 1.8 GiB of ViT-S (384-d) and 3.7 GiB of ViT-B (768-d) float32 features.
_pipeline = [
    dict(type='LoadImage', backend='cv2'),
    dict(type='Resize', size=256, interpolation='bicubic'),
    dict(type='CenterCrop', size=224),
    dict(type='PackInputs'),
]
_knn_loader = dict(
    batch_size=256,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='PipelineDataset',
                 data_source=dict(type='ImageFolder',
                                  root='data/imagenet/train'),
                 pipeline=_pipeline))
knn_eval = dict(
    k=20, temperature=0.07, max_bank_gb=8.0,
    train_dataloader=_knn_loader,
    val_dataloader=dict(
        _knn_loader,
        dataset=dict(_knn_loader['dataset'],
                     data_source=dict(type='ImageFolder',
                                      root='data/imagenet/val'))))
