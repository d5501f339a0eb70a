"""Test-only hook: before and after training, rank 0 writes the whole
model's state dict (gathered from the shards under FSDP2) to
``init_full.pth`` and ``final_full.pth``, and
every rank its local bytes of parameters, gradients and optimizer state
to ``state_bytes_rank{r}.json``."""
import json
import os.path as osp

import torch
from mmengine.hooks import Hook

from easymae.engine.fsdp import is_fully_sharded, local_state_bytes
from easymae.registry import HOOKS


@HOOKS.register_module()
class DumpFullStateHook(Hook):

    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        # measured after the step, while gradients still exist
        if runner.iter == 1:
            model = getattr(runner.model, 'module', runner.model)
            counts = local_state_bytes(model, runner.optim_wrapper.optimizer)
            path = osp.join(runner.work_dir,
                            f'state_bytes_rank{runner.rank}.json')
            with open(path, 'w') as f:
                json.dump(counts, f)

    def before_train(self, runner):
        self._dump(runner, 'init_full.pth')

    def after_train(self, runner):
        self._dump(runner, 'final_full.pth')

    def _dump(self, runner, name):
        if is_fully_sharded(runner.model):
            from torch.distributed.checkpoint.state_dict import (
                StateDictOptions,
                get_model_state_dict,
            )
            state = get_model_state_dict(
                runner.model, options=StateDictOptions(full_state_dict=True,
                                                       cpu_offload=True))
        else:
            state = getattr(runner.model, 'module', runner.model).state_dict()
        if runner.rank == 0:
            torch.save({k: v.detach().clone() for k, v in state.items()},
                       osp.join(runner.work_dir, name))
