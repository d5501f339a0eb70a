# The label-free variant: MAE on the image side (75% of patches removed,
# a 2 x 128 decoder, normalised-pixel loss) and masked-LM on the text side,
# one shared encoder; no labels, so no image teacher and no validation of
# an image head. Convert and finetune its backbone as any MAE encoder.
_base_ = ['./vit-bert_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py']
model = dict(
    _delete_=True,
    type='ViTBERTMAE',
    vocab_file='work_dirs/vocab/wikitext2-wordpiece-8k.json',
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, depth=6),
    text_embed=dict(type='TextEmbedding', vocab_size=8000,
                    max_position_embeddings=128),
    text_head=dict(type='MaskedLMHead', layer_norm_eps=1e-6),
    neck=dict(type='MAEDecoder', decoder_embed_dim=128, decoder_depth=2,
              decoder_num_heads=4),
    head=dict(type='MAEPretrainHead', norm_pix=True),
    image_mask_ratio=0.75,
    data_preprocessor=dict(type='JointDataPreprocessor',
                           mean=(123.675, 116.28, 103.53),
                           std=(58.395, 57.12, 57.375)))
val_dataloader = None
val_evaluator = None
val_cfg = None
