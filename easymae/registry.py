"""easymae's registries: children of mmengine's root registries.

Every component is registered here under the scope ``easymae`` and built by
``type=`` from a config. Because each registry has mmengine's as its parent,
a config may also name anything mmengine ships (``type='CheckpointHook'``,
``type='CosineAnnealingLR'``, ...); ours wins when both define a name.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
)
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import (
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS,
)
from mmengine.registry import Registry

SCOPE = 'easymae'


def _child(name, parent, locations):
    return Registry(name, parent=parent, scope=SCOPE, locations=locations)


# Runner pieces
RUNNERS = _child('runner', MMENGINE_RUNNERS, ['easymae.engine'])
LOOPS = _child('loop', MMENGINE_LOOPS, ['easymae.engine'])
HOOKS = _child('hook', MMENGINE_HOOKS,
               ['easymae.engine.hooks', 'easymae.evaluation'])
LOG_PROCESSORS = _child('log processor', MMENGINE_LOG_PROCESSORS,
                        ['easymae.engine'])

# Data: a data source lists samples (paths or arrays, labels); a pipeline of
# transforms turns one sample into tensors; a dataset joins the two.
DATA_SOURCES = Registry('data source', scope=SCOPE,
                        locations=['easymae.datasets.sources'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS,
                    ['easymae.datasets.transforms'])
PIPELINES = TRANSFORMS  # EasyCV's name for the same thing
DATASETS = _child('dataset', MMENGINE_DATASETS, ['easymae.datasets'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS,
                       ['easymae.datasets'])

# Models: backbones, necks, heads and algorithms all live in one registry, as
# in mmengine, so any of them is a valid `type=` for a sub-module.
MODELS = _child('model', MMENGINE_MODELS, ['easymae.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS,
                        ['easymae.engine'])
# `Pretrained` (strict, converting) is hub's: models name it in init_cfg
# without importing hub, which sits above them.
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMENGINE_WEIGHT_INITIALIZERS, ['easymae.hub'])
# Functions the runner loads `load_from` with ('load_from') and resolves zoo
# names / URLs with ('resolve'): hub provides them, the engine looks them up.
CHECKPOINT_LOADERS = Registry('checkpoint loader', scope=SCOPE,
                              locations=['easymae.hub'])

# Optimisation
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, ['easymae.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS,
                        ['easymae.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['easymae.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          ['easymae.engine'])

# Evaluation and visualisation
METRICS = _child('metric', MMENGINE_METRICS, ['easymae.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, ['easymae.evaluation'])
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, ['easymae.engine'])
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, ['easymae.engine'])
