# The unified foundation model (Li et al. 2021) at CPU size: ViT-Tiny's
# width (192-d, 3 heads) with 6 shared pre-norm blocks; images as 32 px
# with 4x4 patches (ViT tokenizer: patch projection, class token, learned
# positions), text as BERT word-piece + position + segment embeddings
# (no modality embedding); an MLP head per task on the class token
# (images, 10 classes) and on the masked tokens (MLM, 15%).
# A leaf sets model.vocab_file (and text_embed.vocab_size).
model = dict(
    type='ViTBERT',
    backbone=dict(type='VisionTransformer', arch='tiny', img_size=32,
                  patch_size=4, depth=6, global_pool='token',
                  pos_embed='learned'),
    text_embed=dict(type='TextEmbedding', vocab_size=8000,
                    max_position_embeddings=128),
    image_head=dict(type='MLPClsHead', num_classes=10),
    text_head=dict(type='MaskedLMHead', layer_norm_eps=1e-6),
    mask_ratio=0.15,
    alpha=0.5,
    tau=1.0,
    data_preprocessor=dict(type='JointDataPreprocessor',
                           mean=(123.675, 116.28, 103.53),
                           std=(58.395, 57.12, 57.375)))
