# Joint pretraining with distillation and gradient masking (Li et al.
# 2021): each shared weight follows either the text or the image gradient,
# g = M * grad(L_text) + (1 - M) * grad(L_image). Until start_iter the two
# are summed; then the mask is updated every `interval` steps, its
# sparsity (the image share) rising by delta to beta, keeping for text
# the weights with the largest summed text-gradient magnitude (global
# top-k, IMP-style: a weight handed to images stays there). Here: updates
# at steps 500, 700, 900, 1100, 1300 to sparsity 0.1 ... 0.5.
# The mask and its history are saved in the checkpoint's optimizer state;
#   python tools/analysis/mask_sparsity.py work_dirs/<this>/iter_2000.pth \
#       --out mask_sparsity.png
# draws the sparsity of each block after every update.
_base_ = ['./vit-bert-kd_vit-tiny-d6-p4_1xb32i32t-2kiter_digits-wikitext2.py']
optim_wrapper = dict(
    type='GradientMaskOptimWrapper',
    shared=('backbone.blocks.', 'backbone.norm.'),
    start_iter=500,
    interval=200,
    delta=0.1,
    beta=0.5,
    scope='global')
