# Joint pretraining on unpaired images and text, no distillation and no
# gradient masking: the baseline of Li et al. (2021) at CPU size. The
# shared 6-block encoder takes the sum of the image classification loss
# (digits) and the masked-LM loss (WikiText-2), each logged on its own
# (loss_image, loss_text); 2,000 steps of 32 images + 32 text blocks.
#   python tools/build_vocab.py ../shared/data/text/wikitext2/valid.txt \
#       ../shared/data/text/wikitext2/test.txt --vocab-size 8000 \
#       --unk-marker '<unk>' --out work_dirs/vocab/wikitext2-wordpiece-8k.json
#   python tools/train.py THIS_CONFIG
# The image / text share of a step: train_dataloader.sampler.image_per_step
# and text_per_step, with train_dataloader.batch_size their sum.
_base_ = [
    '../../_base_/models/vit-bert_vit-tiny-d6-p4.py',
    '../../_base_/datasets/digits-wikitext2_joint.py',
    '../../_base_/schedules/adamw_linear_bert_pretrain.py',
    '../../_base_/text_runtime.py',
]
model = dict(vocab_file='work_dirs/vocab/wikitext2-wordpiece-8k.json')
optim_wrapper = dict(optimizer=dict(lr=2e-3))
auto_scale_lr = dict(base_batch_size=256)
warmup_iters = 200
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=500, max_keep_ckpts=4))
log_processor = dict(window_size=20)
