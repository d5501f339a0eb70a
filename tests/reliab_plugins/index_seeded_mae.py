"""Test-only pieces for comparing a 1-process run with a torchrun run.

MAE draws its masking noise as ``torch.rand(N, L)`` from each process's
generator, so with 2 processes of 8 images the masks differ from 1 process
of 16 images (both ranks even draw the same noise). Everything else in a
training step is the same whatever the world size. To compare the two runs
honestly, this MAE draws the noise of each image from a generator seeded by
the image's index in the data set: a mask that belongs to the image, not to
the process. The algorithm is otherwise the library's MAE, unchanged.
"""
import json
import os.path as osp

import torch
from mmengine.hooks import Hook

from easymae.models.algorithms.mae import MAE
from easymae.registry import HOOKS, MODELS


@MODELS.register_module()
class IndexSeededMAE(MAE):

    def loss(self, inputs, data_samples=None) -> dict:
        L = self.backbone.num_patches
        noise = torch.stack([
            torch.rand(L, generator=torch.Generator().manual_seed(int(i)))
            for i in data_samples['sample_idx']]).to(inputs.device)
        latent, mask, ids_restore = self.forward_encoder(
            inputs, self.mask_ratio, noise)
        pred = self.forward_decoder(latent, ids_restore)
        return dict(loss=self.forward_loss(inputs, pred, mask))


@HOOKS.register_module()
class RecordSampleIdsHook(Hook):
    """Writes the data-set indices each rank trained on, per iteration, and
    the initial weights (to measure how far training moved them), and the
    pairs a ``GlobalPairMixupPreprocessor`` mixed, if the model has one."""

    def __init__(self):
        self.seen = []

    def before_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        if runner.rank == 0:
            torch.save(model.state_dict(),
                       osp.join(runner.work_dir, 'init_weights.pth'))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.seen.append(
            [runner.epoch] +
            [int(i) for i in data_batch['data_samples']['sample_idx']])

    def after_train(self, runner):
        path = osp.join(runner.work_dir, f'sample_ids_rank{runner.rank}.json')
        with open(path, 'w') as f:
            json.dump(self.seen, f)
        model = getattr(runner.model, 'module', runner.model)
        pairs = getattr(model.data_preprocessor, 'pairs_seen', None)
        if pairs is not None:  # see global_pair_mixup.py
            name = f'mixed_pairs_rank{runner.rank}.json'
            with open(osp.join(runner.work_dir, name), 'w') as f:
                json.dump(pairs, f)


@MODELS.register_module()
class PoisonedMAE(MAE):
    """Stands for a batch that blows up: the loss is NaN whenever the batch
    holds one of ``poisoned`` (data-set indices), otherwise MAE's loss."""

    def __init__(self, *args, poisoned=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.poisoned = set(poisoned)

    def loss(self, inputs, data_samples=None) -> dict:
        losses = super().loss(inputs, data_samples)
        ids = {int(i) for i in data_samples['sample_idx']}
        if ids & self.poisoned:
            losses['loss'] = losses['loss'] * float('nan')
        return losses
