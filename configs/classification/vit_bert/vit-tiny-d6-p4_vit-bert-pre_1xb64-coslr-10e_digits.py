# Finetune the image path of a joint image + text student (ViTBERT) on
# digits: its `backbone.*` (image tokenizer + shared encoder) is a ViT of
# ours, loaded strictly with prefix 'backbone.' (text embeddings and task
# heads dropped); the classifier pools the class token as the student did.
_base_ = ['../mae/vit-tiny-d6-p4_1xb64-coslr-10e_digits.py']
model = dict(backbone=dict(
    global_pool='token',
    init_cfg=dict(type='Pretrained', prefix='backbone.',
                  checkpoint='work_dirs/vit-bert-kd-gm_vit-tiny-d6-p4_'
                  '1xb32i32t-2kiter_digits-wikitext2/iter_2000.pth')))
