"""FSDP2 on the other pretraining models: SimMIM, FLIP (text tower,
contrastive loss over features gathered from every rank) and BERT masked
language modelling. Each trains one tiny config in two real torchrun
groups of 2 processes (gloo, CPU), once under DDP and once under
``model_wrapper_cfg=dict(type='FSDP2')``, through ``tools/train.py``;
the logged losses, the final weights and the per-rank state are compared
(``fsdp_compare.py``). MAE (with its reconstruction picture) and the
classifier are in ``test_fsdp.py``.
"""
import os.path as osp

import pytest
import torch
from bert_utils import mlm_config, need_shared
from fsdp_compare import (
    DUMP_STATE,
    compare_runs,
    losses,
    run_ddp_and_fsdp,
    run_twice_if_rank_crash,
)
from reliab_helpers import REPO, load_state

from easymae.fileio.dcp import load_full_tensors

SIMMIM = '''
_base_ = [{base!r}]
model = dict(backbone=dict(embed_dim=32, depth=2, num_heads=2,
                           drop_path_rate=0.0))
train_dataloader = dict(batch_size=8,
                        dataset=dict(data_source=dict(split='val')))
train_cfg = dict(max_epochs=1)
randomness = dict(seed=0, deterministic=True)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=1))
log_processor = dict(window_size=1)
warmup_epochs = 0
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                        begin=0, end=5)]
'''

# FLIP on the embedded digits with captions made from the class names
# ("a photo of the number 3."), 16 px, 2-block towers, and zero-shot
# validation (ZeroShotClassifierHook calls the text tower outside the
# model's forward). Its logit scale is a 0-dim parameter, which FSDP keeps
# whole on every rank; gradient clipping mixes it with the shards
FLIP = '''
_base_ = [{base!r}]
img = 16
model = dict(embed_dim=16, mask_ratio=0.5,
             backbone=dict(img_size=img, embed_dim=32, depth=2, num_heads=2),
             text_backbone=dict(context_length=16, width=32, depth=2,
                                num_heads=2))
digits = dict(type='Digits', split='val', img_size=img)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        data_source=dict(_delete_=True, type='ClassCaptions',
                         templates='digits', data_source=digits),
        pipeline=[dict(type='RandomResizedCrop', size=img, scale=(0.5, 1.0),
                       interpolation='bicubic'),
                  dict(type='SampleCaption'),
                  dict(type='Tokenize', context_length=16),
                  dict(type='PackInputs', meta_keys=('text', ))]))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(data_source=dict(_delete_=True, **digits),
                 pipeline=[dict(type='PackInputs', meta_keys=('gt_label', ))]))
test_dataloader = val_dataloader
optim_wrapper = dict(clip_grad=dict(max_norm=1.0))
custom_imports = dict(imports=['reliab_plugins.full_state'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='ZeroShotClassifierHook', templates='digits'),
                dict(type='DumpFullStateHook')]
train_cfg = dict(max_epochs=1, val_interval=1)
warmup_epochs = 0
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                        begin=0, end=5)]
randomness = dict(seed=0, deterministic=True)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=11, by_epoch=False,
                                     max_keep_ckpts=-1))
log_processor = dict(window_size=1)
'''
FLIP_BASE = osp.join(REPO, 'configs', 'selfsup', 'flip',
                     'flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions.py')
SIMMIM_BASE = osp.join(REPO, 'configs', 'selfsup', 'simmim',
                       'simmim_vit-tiny-d6-p4_1xb64-30e_digits.py')


@pytest.mark.extended
@pytest.mark.slow(seconds=60)
def test_fsdp_matches_ddp_for_simmim(tmp_path):
    ddp, fsdp = run_ddp_and_fsdp(
        tmp_path, SIMMIM.format(base=SIMMIM_BASE) + DUMP_STATE)
    # only the order of the gradient reduction may differ (measured:
    # identical losses and weights)
    loss_gap, weight_gap = compare_runs(ddp, fsdp, loss_rel=1e-5,
                                        weight_share=1e-3)
    print(f'SimMIM: FSDP vs DDP, largest loss gap {loss_gap:.2g} '
          f'(relative), largest weight gap {weight_gap:.2g} of the change')


@pytest.mark.slow(seconds=120)
def test_fsdp_matches_ddp_for_flip_with_zero_shot_validation(tmp_path):
    ddp, fsdp = run_ddp_and_fsdp(tmp_path, FLIP.format(base=FLIP_BASE))
    # measured: losses within 2.5e-7, weights within 1.5e-5 of the change
    loss_gap, weight_gap = compare_runs(ddp, fsdp, loss_rel=1e-5,
                                        weight_share=1e-3)
    print(f'FLIP: FSDP vs DDP, largest loss gap {loss_gap:.2g} '
          f'(relative), largest weight gap {weight_gap:.2g} of the change')
    # the logit scale (kept whole on every rank) trained as under DDP
    scale = losses(fsdp, 'logit_scale')
    assert scale == pytest.approx(losses(ddp, 'logit_scale'), rel=1e-5)
    assert scale[-1] != scale[0]
    # zero-shot validation ran on the gathered text tower: the same top-1
    # up to one of the 360 images
    top1 = [losses(w, 'zero_shot/top1') for w in (ddp, fsdp)]
    assert len(top1[0]) == len(top1[1]) == 1
    assert abs(top1[0][0] - top1[1][0]) <= 100 / 360 + 1e-6, top1
    # the sharded checkpoint holds the 0-dim parameter with its shape
    full = load_state(fsdp / 'final_full.pth')
    state = load_full_tensors(str(fsdp / 'iter_22.dcp'))
    assert state.keys() == full.keys()
    assert state['logit_scale'].shape == ()
    assert all(torch.equal(state[k], full[k]) for k in full)
    # resumed from step 11 (its AdamW state included), it ends as the
    # uninterrupted run did, bit for bit
    resumed = tmp_path / 'resumed'
    run_twice_if_rank_crash(tmp_path / 'fsdp.py', resumed, '--resume',
                                str(fsdp / 'iter_11.dcp'))
    assert losses(resumed) == losses(fsdp)[11:]
    again = load_state(resumed / 'final_full.pth')
    assert all(torch.equal(again[k], full[k]) for k in full)


@pytest.mark.slow(seconds=100)
@need_shared
def test_fsdp_matches_ddp_for_bert_mlm(tmp_path):
    # 8 steps of the tiny WikiText-2 MLM (16 blocks of 32 tokens per rank,
    # gradient clipping), then masked-token accuracy on held-out text; the
    # DDP run is also the text model's torchrun check
    cfg, _, _ = mlm_config(tmp_path, iters=8)
    ddp, fsdp = run_ddp_and_fsdp(
        tmp_path, cfg.read_text() + DUMP_STATE)
    ddp_losses = losses(ddp, 'loss_mlm')
    assert len(ddp_losses) == 8 and all(0 < x < 20 for x in ddp_losses)
    assert (ddp / 'iter_8.pth').is_file()
    # measured: identical losses and weights
    loss_gap, weight_gap = compare_runs(ddp, fsdp, loss_rel=1e-5,
                                        weight_share=1e-3,
                                        loss_key='loss_mlm')
    print(f'BERT MLM: FSDP vs DDP, largest loss gap {loss_gap:.2g} '
          f'(relative), largest weight gap {weight_gap:.2g} of the change')
    accuracy = [losses(w, 'mlm/accuracy') for w in (ddp, fsdp)]
    assert len(accuracy[0]) == 1
    assert accuracy[1] == pytest.approx(accuracy[0], abs=1e-3)
