"""mmengine's CheckpointHook, writing plain, atomic checkpoints."""
import os.path as osp
import re
import shutil

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as _MMEngineCheckpointHook

from easymae.registry import HOOKS
from ..checkpoint_io import (
    CheckpointWriteError,
    atomic_write_bytes,
    check_writable_dir,
    get_rng_state,
    message_hub_from_plain,
    message_hub_to_plain,
    remove_stale_temporaries,
    set_rng_state,
)
from ..fsdp import is_fully_sharded


@HOOKS.register_module(name='CheckpointHook', force=True)
class CheckpointHook(_MMEngineCheckpointHook):
    """Same options as mmengine's (interval, max_keep_ckpts, save_best...).

    Differences: files are written atomically (``atomic_local`` backend),
    ``last_checkpoint`` included, and with ``max_keep_ckpts`` the oldest
    checkpoint is deleted only *after* the new one is complete (mmengine
    deletes first, so a kill during the save could leave no checkpoint).
    What is deleted is found on disk, by the file name pattern, not from
    the list kept in memory: a checkpoint left behind by a run killed
    between saving and deleting is removed at the next save;
    the message hub is stored as plain values and the RNG states are added,
    so checkpoints load with ``torch.load(weights_only=True)`` and a resumed
    run continues the random streams where the interrupted one stopped.
    Before training, the checkpoint folder is checked: temporary files of a
    process killed while saving are removed, and a folder that is not
    writable or lacks room for one more checkpoint is an error now rather
    than after hours of training.
    """

    priority = 'VERY_LOW'

    def __init__(self, *args, backend_args=None, **kwargs):
        if backend_args is None:
            backend_args = dict(backend='atomic_local')
        super().__init__(*args, backend_args=backend_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_fully_sharded(runner.model) and \
                self.filename_tmpl.endswith('.pth'):
            # FSDP2: each checkpoint is a folder of shards (sharded_checkpoint)
            self.filename_tmpl = self.filename_tmpl[:-len('.pth')] + '.dcp'
        if runner.rank != 0:
            return
        check_writable_dir(self.out_dir, what='checkpoint folder')
        for name in remove_stale_temporaries(self.out_dir):
            runner.logger.warning(f'removed {name!r} in {self.out_dir}: the '
                                  'half-written file of an interrupted save')
        # weights + two AdamW moments (+ the temporary copy of one file)
        model_bytes = sum(p.numel() * p.element_size()
                          for p in runner.model.state_dict().values())
        need = 3 * model_bytes
        free = shutil.disk_usage(self.out_dir).free
        if free < need:
            raise CheckpointWriteError(
                28, f'only {free / 2**20:.1f} MiB free in {self.out_dir!r}; a '
                f'checkpoint needs about {need / 2**20:.1f} MiB. Free disk '
                'space or choose another work dir')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['message_hub'] = message_hub_to_plain(
            checkpoint['message_hub'])
        checkpoint['meta']['rng_state'] = get_rng_state()
        checkpoint['meta'] = message_hub_to_plain(checkpoint['meta'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = message_hub_from_plain(
                checkpoint['message_hub'])
        # Only a resume continues the random streams; `load_from` does not.
        # easymae's train loops restore them after advancing the data loader
        # past the finished batches and before loading the next one.
        if getattr(runner, '_resume', False):
            runner.pending_rng_state = checkpoint.get('meta', {}).get(
                'rng_state')

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        # Fallback for loops other than easymae's: restore before the first
        # step at least (exact for num_workers > 0 only).
        if getattr(runner, 'pending_rng_state', None) is not None:
            set_rng_state(runner.pending_rng_state)
            runner.pending_rng_state = None

    def _step_pattern(self):
        """``filename_tmpl`` as a regex whose one group is the step; None
        when the template is not one number between fixed text."""
        fields = re.findall(r'\{[^{}]*\}', self.filename_tmpl)
        if len(fields) != 1:
            return None
        before, after = self.filename_tmpl.split(fields[0])
        return re.compile(f'^{re.escape(before)}(\\d+){re.escape(after)}$')

    def _remove_old_checkpoints(self, runner, step, expected=None) -> None:
        """Keep the newest ``max_keep_ckpts`` checkpoints up to ``step``
        that are in the folder; later steps (from an earlier, longer run
        in the same folder) are left alone, they are not older."""
        pattern = self._step_pattern()
        if pattern is None:
            return
        found = {}
        for name in self.file_backend.list_dir_or_file(
                self.out_dir, list_dir=True, list_file=True):
            match = pattern.match(name)
            if match and int(match.group(1)) <= step:
                found[int(match.group(1))] = name
        for old in sorted(found)[:-self.max_keep_ckpts]:
            path = self.file_backend.join_path(self.out_dir, found[old])
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
            if old != expected:
                runner.logger.info(
                    f'removed {found[old]!r} from {self.out_dir}: older than '
                    f'the newest max_keep_ckpts={self.max_keep_ckpts} (left '
                    'by an earlier, interrupted clean-up)')

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            # stored in the checkpoint itself, so updated before saving
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        # the new checkpoint is complete: point at it, then drop the oldest
        atomic_write_bytes(self.last_ckpt.encode(),
                           osp.join(runner.work_dir, 'last_checkpoint'))
        if self.max_keep_ckpts > 0:
            self._remove_old_checkpoints(runner, step, outdated)
