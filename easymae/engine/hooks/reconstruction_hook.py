"""Write an MAE reconstruction grid into the work dir every N epochs.

Rank 0 draws it alone, except under FSDP2: there every rank runs the
reconstruction on the gathered model (a collective, see
``evaluation/unsharded.py``) and rank 0 writes the picture."""
import os
import os.path as osp

import cv2
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from easymae.evaluation.unsharded import gathered, is_sharded
from easymae.registry import HOOKS
from easymae.visualization import make_grid, reconstruct


@HOOKS.register_module()
class ReconstructionHook(Hook):
    """Args:
        interval: epochs between pictures (also written after the last one).
        num_images: rows of the grid, taken from the start of the training
            set (one fixed masking, so pictures are comparable over time).
        out_dir: folder inside the work dir.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 10, num_images: int = 8,
                 out_dir: str = 'reconstructions', seed: int = 0):
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir
        self.seed = seed

    def after_train_epoch(self, runner) -> None:
        last = runner.epoch + 1 == runner.max_epochs
        if not (self.every_n_epochs(runner, self.interval) or last):
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        if runner.rank != 0 and not is_sharded(model):
            return
        dataset = runner.train_dataloader.dataset
        n = min(self.num_images, len(dataset))
        images = torch.stack([dataset[i]['inputs'] for i in range(n)])
        device = next(model.parameters()).device
        gen = torch.Generator().manual_seed(self.seed)
        noise = torch.rand(n, model.backbone.num_patches, generator=gen)
        was_training = model.training
        with gathered(model):
            parts = reconstruct(model, images.to(device), noise.to(device))
        model.train(was_training)
        if runner.rank != 0:
            return
        path = osp.join(runner.work_dir, self.out_dir,
                        f'epoch_{runner.epoch + 1}.png')
        grid = make_grid(parts)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        runner.logger.info(f'reconstruction grid written to {path}')
