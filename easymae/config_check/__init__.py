"""Reject a bad config before anything is built or written.

No hand-written schema: every ``type=`` dict is checked against the
``__init__`` signature of the class it names, recursively, so a new
component is covered as soon as it is registered. Three kinds of mistakes
are caught, each reported with the full key, the value and what is allowed:

* unknown keys (``model.mask_ratoi``), with the closest valid name;
* values of the wrong type, where the signature's annotation says
  (``mask_ratio: float`` given ``'high'``);
* impossible values (mask ratio outside [0, 1), image size not divisible
  by the patch size, ...): the model is built once (on the ``meta`` device
  where its code allows, else on the CPU), so the classes' own argument
  checks run now rather than after the work dir, logs and data loaders
  exist.
"""
from easymae.config_check.arguments import accepted_arguments
from easymae.config_check.checks import (
    RUNNER_KEYS,
    check_config,
    check_config_in_scope,
    check_config_syntax,
    compile_problems,
    length_and_lr_problems,
    model_num_classes,
    num_classes_problems,
    share_num_classes,
    top_level_problems,
)
from easymae.config_check.errors import ConfigError
from easymae.config_check.schedules import (
    MAX,
    WARMUP,
    describe_schedule,
    resolve_param_scheduler,
    schedule_unit_keys,
    schedule_warnings,
)

__all__ = [
    'ConfigError', 'RUNNER_KEYS', 'MAX', 'WARMUP', 'accepted_arguments',
    'check_config', 'check_config_in_scope', 'check_config_syntax',
    'compile_problems', 'describe_schedule', 'length_and_lr_problems',
    'model_num_classes', 'num_classes_problems', 'resolve_param_scheduler',
    'schedule_unit_keys', 'schedule_warnings', 'share_num_classes',
    'top_level_problems',
]
