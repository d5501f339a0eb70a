"""A real 2-process torchrun run (gloo, CPU) and a 1-process run with the
same global batch and seed reach the same parameters; the distributed
sampler shards without overlap and reshuffles every epoch."""
import json
import os
import os.path as osp

import pytest
import torch

from easymae.engine.dist import _slurm_env_to_torchrun
from reliab_helpers import (FIXED_PIPELINE, load_state, run_torchrun,
                            run_train, write_config)

# 360 'val' digits, global batch 16 -> 22 iterations per epoch, 2 epochs.
# No random transforms (a crop drawn per process could not match); the
# masking noise is per image (see reliab_plugins/index_seeded_mae.py).
EXTRA = '''
custom_imports = dict(imports=['reliab_plugins.index_seeded_mae'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='RecordSampleIdsHook')]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
'''


def _ids(work_dir, rank):
    with open(osp.join(work_dir, f'sample_ids_rank{rank}.json')) as f:
        return json.load(f)


@pytest.mark.slow
def test_torchrun_2proc_matches_1proc(tmp_path):
    one = write_config(tmp_path, 'one.py', batch_size=16, split='val',
                       pipeline=FIXED_PIPELINE, ckpt_interval=2,
                       model_kw="type='IndexSeededMAE',", extra=EXTRA)
    two = write_config(tmp_path, 'two.py', batch_size=8, split='val',
                       pipeline=FIXED_PIPELINE, ckpt_interval=2,
                       model_kw="type='IndexSeededMAE',", extra=EXTRA)
    run_train(one, tmp_path / 'one')
    proc = run_torchrun(two, tmp_path / 'two', nproc=2)
    assert 'world size 2, effective batch size 16' in proc.stdout + \
        proc.stderr

    # data: each global batch is the same 16 images, split without overlap
    single = _ids(tmp_path / 'one', 0)
    r0, r1 = _ids(tmp_path / 'two', 0), _ids(tmp_path / 'two', 1)
    assert len(single) == len(r0) == len(r1) == 44
    for s, a, b in zip(single, r0, r1):
        assert s[0] == a[0] == b[0]  # same epoch
        assert not set(a[1:]) & set(b[1:])
        assert sorted(s[1:]) == sorted(a[1:] + b[1:])
    # reshuffled per epoch: epoch 2 visits the images in another order
    epoch1 = [i for row in single[:22] for i in row[1:]]
    epoch2 = [i for row in single[22:] for i in row[1:]]
    assert len(set(epoch1)) == len(epoch1) == 352
    assert epoch1 != epoch2

    # weights: same start; after 44 AdamW steps the two runs differ only by
    # float rounding (gradients are summed in another order across ranks,
    # and AdamW divides by sqrt(v), which magnifies rounding where gradients
    # are tiny): measured at most 1.3% of how far training moved a tensor
    # (max absolute gap 5e-5); the bound is 5%.
    init = load_state(tmp_path / 'one' / 'init_weights.pth')
    init2 = load_state(tmp_path / 'two' / 'init_weights.pth')
    a = load_state(tmp_path / 'one' / 'epoch_2.pth')['state_dict']
    b = load_state(tmp_path / 'two' / 'epoch_2.pth')['state_dict']
    assert a.keys() == b.keys() == init.keys()
    moved = 0
    for key in a:
        assert torch.equal(init[key], init2[key]), key
        change = (a[key] - init[key]).abs().max().item()
        gap = (a[key] - b[key]).abs().max().item()
        assert gap <= 0.05 * change + 1e-7, (key, gap, change)
        moved += change > 0
    assert moved > len(a) // 2  # the test is not vacuous: training happened


def test_slurm_environment_becomes_torchrun_variables(monkeypatch):
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                'MASTER_PORT'):
        # setenv first, so monkeypatch records the variable's original state
        # and removes what _slurm_env_to_torchrun sets after the test
        monkeypatch.setenv(var, 'placeholder')
        monkeypatch.delenv(var)
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'node[03-04]')
    monkeypatch.setenv('MASTER_ADDR', 'node03')
    _slurm_env_to_torchrun(port=29123)
    assert os.environ['RANK'] == '5'
    assert os.environ['WORLD_SIZE'] == '8'
    assert os.environ['LOCAL_RANK'] == '1'
    assert os.environ['MASTER_ADDR'] == 'node03'
    assert os.environ['MASTER_PORT'] == '29123'
