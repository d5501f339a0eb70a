# The text teacher: BERT-Mini (4 x 256) masked-LM on WikiText-2 with the
# 8k vocabulary the students use, the recipe of configs/selfsup/bert/
# unchanged. Its last checkpoint is model.text_teacher of the students.
#   python tools/train.py \
#       configs/selfsup/vit_bert/teacher_bert-mini_1xb32-2kiter_wikitext2.py
_base_ = ['../bert/bert_bert-mini_1xb32-2kiter_wikitext2.py']
