# Text runs count iterations: logs and checkpoints by iteration, and the
# vocabulary copied beside the checkpoints (TextVocabHook, recorded in
# each checkpoint's meta).
_base_ = ['./default_runtime.py']
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10000,
                    max_keep_ckpts=3))
log_processor = dict(window_size=50, by_epoch=False)
custom_hooks = [dict(type='TextVocabHook')]
