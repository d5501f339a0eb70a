"""mmengine's CheckpointHook, writing plain, atomic checkpoints."""
from mmengine.hooks import CheckpointHook as _MMEngineCheckpointHook

from easymae.registry import HOOKS
from ..checkpoint_io import (get_rng_state, message_hub_from_plain,
                             message_hub_to_plain, set_rng_state)


@HOOKS.register_module(name='CheckpointHook', force=True)
class CheckpointHook(_MMEngineCheckpointHook):
    """Same options as mmengine's (interval, max_keep_ckpts, save_best...).

    Differences: files are written atomically (``atomic_local`` backend);
    the message hub is stored as plain values and the RNG states are added,
    so checkpoints load with ``torch.load(weights_only=True)`` and a resumed
    run continues the random streams where the interrupted one stopped.
    """

    priority = 'VERY_LOW'

    def __init__(self, *args, backend_args=None, **kwargs):
        if backend_args is None:
            backend_args = dict(backend='atomic_local')
        super().__init__(*args, backend_args=backend_args, **kwargs)
        self._pending_rng_state = None

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
        if getattr(runner, '_resume', False):
            self._pending_rng_state = checkpoint.get('meta', {}).get(
                'rng_state')

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        # Restored here, after the data loader was rebuilt and advanced, so
        # the model's random draws match the uninterrupted run's.
        if self._pending_rng_state is not None:
            set_rng_state(self._pending_rng_state)
            self._pending_rng_state = None
