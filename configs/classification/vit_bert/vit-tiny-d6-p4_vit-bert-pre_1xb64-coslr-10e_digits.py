# Finetune the image path of a joint image + text student (ViTBERT) on
# digits: its `backbone.*` (image tokenizer + shared encoder) is a ViT of
# ours. `Pretrained` recognises the joint layout and loads the ViT
# strictly, dropping the text embeddings and the task heads (as an MAE
# checkpoint's decoder); the classifier pools the class token as the
# student did. Another checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = ['../mae/vit-tiny-d6-p4_1xb64-coslr-10e_digits.py']
model = dict(backbone=dict(
    global_pool='token',
    init_cfg=dict(type='Pretrained',
                  checkpoint='work_dirs/vit-bert-kd-gm_vit-tiny-d6-p4_'
                  '1xb32i32t-2kiter_digits-wikitext2/iter_2000.pth')))
