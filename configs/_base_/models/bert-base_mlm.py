# BERT-base (L=12, H=768, A=12; 110M parameters) with the masked-LM head:
# post-norm blocks, GELU, LayerNorm eps 1e-12, dropout 0.1, 512 positions,
# 15% of the tokens predicted (80% [MASK], 10% random, 10% kept), no NSP.
# A leaf sets model.vocab_file (and vocab_size if it is not BERT's 30,522).
model = dict(
    type='BERT',
    mask_ratio=0.15,
    nsp=False,
    backbone=dict(
        type='BertEncoder', vocab_size=30522, max_position_embeddings=512,
        embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0,
        post_norm=True, layer_norm_eps=1e-12, hidden_dropout=0.1,
        attn_dropout=0.1))
