# The embedded default for SimMIM: scikit-learn's handwritten digits at
# 32x32 with digits_mae.py's pipeline, its final PackInputs replaced by a
# 60% mask of 8 px blocks on the 4 px patch grid plus a PackInputs that
# carries the mask. No download needed.
_base_ = ['./digits_mae.py']
train_pipeline = _base_.train_pipeline[:-1] + [  # noqa: F821
    dict(type='SimMIMMaskGenerator', input_size=32, mask_patch_size=8,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs', meta_keys=('mask', )),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
