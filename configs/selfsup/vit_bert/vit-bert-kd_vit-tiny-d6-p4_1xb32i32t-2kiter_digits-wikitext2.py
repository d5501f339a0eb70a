# Joint pretraining with knowledge distillation from the two teachers
# (Li et al. 2021): per task alpha * CE + (1 - alpha) * tau^2 * KL, the
# image teacher a supervised ViT on digits, the text teacher BERT-Mini
# on WikiText-2 (same vocabulary). Train the teachers first, with
# teacher_vit-tiny-d6-p4_1xb32-2kiter_digits.py and
# teacher_bert-mini_1xb32-2kiter_wikitext2.py beside this file.
# Teachers are read by the strict loader, frozen, in eval mode, and are no
# part of the student's parameters or checkpoints.
_base_ = ['./vit-bert_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py']
model = dict(
    alpha=0.5,
    tau=1.0,
    image_teacher=dict(
        checkpoint='work_dirs/teacher_vit-tiny-d6-p4_1xb32-2kiter_digits/'
        'iter_2000.pth',
        # as configs/_base_/models/vit-tiny-p4_cls.py with depth 6
        model=dict(
            type='ImageClassifier',
            backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                          patch_size=4, depth=6, global_pool='avg',
                          pos_embed='learned'),
            head=dict(type='LinearClsHead', num_classes=10))),
    text_teacher=dict(
        checkpoint='work_dirs/teacher_bert-mini_1xb32-2kiter_wikitext2/'
        'iter_2000.pth',
        # as configs/selfsup/bert/bert_bert-mini_1xb32-2kiter_wikitext2.py
        model=dict(
            type='BERT',
            backbone=dict(type='BertEncoder', vocab_size=8000,
                          max_position_embeddings=128, embed_dim=256,
                          depth=4, num_heads=4, post_norm=True))))
