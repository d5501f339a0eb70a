default_scope = 'easymae'
runner_type = 'EasyRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # easymae's CheckpointHook: atomic files, weights_only-loadable
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # stop at the first NaN/inf loss or gradient, before it reaches the
    # weights; action='skip' skips such steps and counts them instead
    nan_guard=dict(type='NaNGuardHook', action='stop'),
    # logs how many unreadable images on_bad_image='skip' replaced
    bad_images=dict(type='BadImageCounterHook', interval=10),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; EasyRunner switches to gloo on CPU-only machines
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
