"""Turning a config file plus command-line choices into a runner, and the
strict weight loading and one-line errors the tools share."""
import os.path as osp
import sys
import warnings
from typing import Callable, Optional

from mmengine.config import Config, DictAction  # noqa: F401 (re-export)
from mmengine.model import is_model_wrapper

import easymae  # noqa: F401 (registers every component)
from easymae.config_check import (
    check_config_in_scope,
    check_config_syntax,
    schedule_warnings,
)
from easymae.engine.dist import close_distributed
from easymae.fileio import (
    CheckpointConfigError,
    CheckpointFormatError,
    CheckpointKindError,
    CheckpointMismatchError,
    LoadReport,
    UnsafeCheckpointError,
    load_checkpoint_into,
)
from easymae.registry import RUNNERS

# what a tool reports as one line naming the file, not as a traceback
CHECKPOINT_ERRORS = (UnsafeCheckpointError, CheckpointFormatError,
                     CheckpointMismatchError, CheckpointKindError,
                     CheckpointConfigError, FileNotFoundError,
                     IsADirectoryError)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path!r}')
    check_config_syntax(path)  # names the file, mmengine does not
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_runner(cfg: Config, work_dir: Optional[str] = None,
                 launcher: str = 'none', amp: bool = False,
                 resume=None, tensorboard: bool = False):
    """Apply the command-line choices to ``cfg`` and build its runner.

    resume: None keeps the config's choice; True resumes from the latest
    checkpoint in the work dir; a path resumes from that checkpoint.
    tensorboard: also log scalars for TensorBoard (needs the package:
    ``pip install -e ".[tensorboard]"``), next to the JSON log.
    """
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(cfg.filename or 'run'))[0]
        cfg.work_dir = osp.join('work_dirs', name)
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    if tensorboard:
        backends = list(cfg.get('vis_backends') or
                        [dict(type='LocalVisBackend')])
        backends.append(dict(type='TensorboardVisBackend'))
        cfg.visualizer = dict(cfg.get('visualizer') or
                              dict(type='Visualizer'),
                              vis_backends=backends)
    if resume is True:
        cfg.resume = True
        cfg.load_from = None
    elif resume:
        cfg.resume = True
        cfg.load_from = resume
    # `load_from` may name a model-zoo entry or a URL: fetch it once.
    from easymae.hub.resolve import resolve_load_from
    resolve_load_from(cfg)
    cfg.setdefault('default_scope', 'easymae')
    cfg.setdefault('runner_type', 'EasyRunner')
    # unknown keys, wrong types, impossible values: fail before the work dir,
    # logs or data loaders exist (set check_config=False to bypass)
    if cfg.get('check_config', True):
        check_config_in_scope(cfg)
        for warning in schedule_warnings(cfg):
            warnings.warn(f'config: {warning}', stacklevel=2)
    return RUNNERS.build(cfg)


def load_model_weights(model, path: str) -> LoadReport:
    """A checkpoint of this very model into ``model`` (or the model a
    wrapper holds): read safely, loaded key for key, every missing,
    unexpected or reshaped key an error naming the file."""
    target = model.module if is_model_wrapper(model) else model
    _, report = load_checkpoint_into(target, path)
    return report


def run_tool(main: Callable, argv=None) -> int:
    """Run a tool's ``main``; a bad checkpoint or config becomes one
    ``error: ...`` line on stderr and exit status 1. Under torchrun, a
    finished run closes its process groups on all ranks together."""
    try:
        main(argv)
    except CHECKPOINT_ERRORS as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    if close_distributed():
        print('every rank finished; process group closed', flush=True)
    return 0
