# Lightweight-ViT study (docs/results.md, section 5): DINO's weighted kNN
# (k=20, T=0.07) on the frozen 6-block ViT-Tiny of the results page, the
# class token after the final norm as the feature; the 10,000 dev train
# images are the bank, the 2,000 val images are scored, as they are.
#   python tools/knn_eval.py THIS_CONFIG CHECKPOINT [--prefix P]
# The kNN tool builds model.backbone only; the classifier around it makes
# this a complete config (its head is never used).
_base_ = ['../_base_/datasets/knn_cifar10.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer', arch='tiny', depth=6,
                  img_size=32, patch_size=4, global_pool='token'),
    head=dict(type='LinearClsHead', num_classes=10))
