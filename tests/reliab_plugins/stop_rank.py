"""Test-only hook: one rank stops itself (SIGSTOP) at a chosen iteration,
as a process frozen by a debugger, a swapped-out node or a hung driver
would; the other ranks then wait for it in the next collective."""
import os
import signal

from mmengine.hooks import Hook

from easymae.registry import HOOKS


@HOOKS.register_module()
class StopRankHook(Hook):

    def __init__(self, rank: int = 1, at_iter: int = 2):
        self.rank, self.at_iter = rank, at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.rank == self.rank and runner.iter == self.at_iter:
            # the pid, so the test can end the frozen process even where
            # the launcher put its workers outside its own process group
            print(f'rank {runner.rank} stops itself at iteration '
                  f'{runner.iter} (pid {os.getpid()})', flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
