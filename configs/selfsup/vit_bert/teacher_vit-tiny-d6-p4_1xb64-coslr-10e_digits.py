# The image teacher: a ViT-Tiny (6 blocks, 32 px, patch 4) trained with
# labels on digits from random initialisation, the classification recipe
# of configs/classification/mae/ unchanged. Its last checkpoint is what
# the distilling students read (model.image_teacher), with this model.
#   python tools/train.py THIS_CONFIG
_base_ = ['../../classification/mae/'
          'vit-tiny-d6-p4_scratch_1xb64-coslr-10e_digits.py']
