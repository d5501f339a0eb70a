"""A real 2-process torchrun run (gloo, CPU) and a 1-process run with the
same global batch and seed reach the same parameters; the distributed
sampler shards without overlap and reshuffles every epoch."""
import json
import os
import os.path as osp
import signal
import subprocess
import time

import pytest
import torch
from reliab_helpers import (
    FIXED_PIPELINE,
    PYTHON,
    REPO,
    TRAIN,
    env,
    free_port,
    load_state,
    run_torchrun,
    run_train,
    write_config,
)

from easymae.engine.dist import _slurm_env_to_torchrun

# 360 'val' digits, global batch 16 -> 22 iterations per epoch, 2 epochs.
# No random transforms (a crop drawn per process could not match); the
# masking noise is per image (see reliab_plugins/index_seeded_mae.py).
EXTRA = '''
custom_imports = dict(imports=['reliab_plugins.index_seeded_mae'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='RecordSampleIdsHook')]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
'''


def _train_one_and_two(one, two, tmp_path):
    """``one`` in 1 process, ``two`` under a real 2-process torchrun."""
    run_train(one, tmp_path / 'one')
    proc = run_torchrun(two, tmp_path / 'two', nproc=2)
    log = proc.stdout + proc.stderr
    assert 'world size 2, effective batch size 16' in log
    # both ranks met at the end and closed their process groups in order
    assert log.count('every rank finished; process group closed') == 2


def _per_rank(tmp_path, name):
    """What ``RecordSampleIdsHook`` wrote as ``{name}_rank{r}.json``: the
    1-process run's, then each rank's of the 2-process run."""
    def read(run, rank):
        with open(osp.join(tmp_path, run, f'{name}_rank{rank}.json')) as f:
            return json.load(f)
    return read('one', 0), read('two', 0), read('two', 1)


@pytest.mark.slow
def test_torchrun_2proc_matches_1proc(tmp_path):
    one = write_config(tmp_path, 'one.py', batch_size=16, split='val',
                       pipeline=FIXED_PIPELINE, ckpt_interval=2,
                       model_kw="type='IndexSeededMAE',", extra=EXTRA)
    two = write_config(tmp_path, 'two.py', batch_size=8, split='val',
                       pipeline=FIXED_PIPELINE, ckpt_interval=2,
                       model_kw="type='IndexSeededMAE',", extra=EXTRA)
    _train_one_and_two(one, two, tmp_path)

    # data: each global batch is the same 16 images, split without overlap
    single, r0, r1 = _per_rank(tmp_path, 'sample_ids')
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

    # weights: same start, same end up to float rounding
    _assert_same_weights(tmp_path / 'one', tmp_path / 'two', 'epoch_2.pth')


def _assert_same_weights(dir_one, dir_two, ckpt, share=1e-3):
    """Both runs start from the same weights and, after 44 AdamW steps, every
    tensor is within ``share`` of how far training moved it (measured: at
    most 3e-5 for MAE and 2e-4 for the classifier), and most tensors moved.

    One exception: the attention *key* bias. Adding a constant to every key
    shifts all of a query's logits alike, which softmax ignores, so its true
    gradient is zero; what it gets is rounding noise, which Adam scales up
    to lr-sized steps that differ between the runs. It is only held to stay
    small next to the rest of its qkv tensor."""
    init = load_state(dir_one / 'init_weights.pth')
    init2 = load_state(dir_two / 'init_weights.pth')
    a = load_state(dir_one / ckpt)['state_dict']
    b = load_state(dir_two / ckpt)['state_dict']
    assert a.keys() == b.keys() == init.keys()
    moved = 0
    for key in a:
        assert torch.equal(init[key], init2[key]), key
        change = (a[key] - init[key]).abs().max().item()
        gap = a[key] - b[key]
        if key.endswith('attn.qkv.bias'):
            q_gap, k_gap, v_gap = gap.chunk(3)
            assert k_gap.abs().max().item() <= 0.05 * change, key
            gap = torch.cat([q_gap, v_gap])
        gap = gap.abs().max().item()
        assert gap <= share * change + 1e-7, (key, gap, change)
        moved += change > 0
    assert moved > len(a) // 2  # the test is not vacuous: training happened


# The classifier with mixup + cutmix + label smoothing and layer-wise lr
# decay, on a 2-block ViT at 16 px; pairs are made world-size invariant by
# reordering each local batch (reliab_plugins/global_pair_mixup.py).
CLASSIFIER = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['reliab_plugins.index_seeded_mae',
                               'reliab_plugins.global_pair_mixup'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='RecordSampleIdsHook')]
img = 16
model = dict(
    backbone=dict(img_size=img, patch_size=4, embed_dim=32, depth=2,
                  num_heads=2, drop_path_rate=0.0, init_cfg=None),
    data_preprocessor=dict(
        type='GlobalPairMixupPreprocessor',
        mixup=dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0,
                   switch_prob=0.5, mode='batch', label_smoothing=0.1)))
train_dataloader = dict(
    batch_size={batch_size},
    dataset=dict(data_source=dict(img_size=img, split='val'),
                 pipeline=[dict(type='PackInputs')]))
val_dataloader = dict(dataset=dict(data_source=dict(img_size=img)))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                        begin=0, end=5)]
train_cfg = dict(max_epochs=2, val_interval=100)
randomness = dict(seed=0, deterministic=True)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1))
'''
DIGITS_CLS = osp.join(REPO, 'configs', 'classification', 'mae',
                      'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py')


@pytest.mark.slow
def test_torchrun_2proc_matches_1proc_classifier_with_mixup(tmp_path):
    for name, batch in (('one', 16), ('two', 8)):
        with open(tmp_path / f'{name}.py', 'w') as f:
            f.write(CLASSIFIER.format(base=DIGITS_CLS, batch_size=batch))
    _train_one_and_two(tmp_path / 'one.py', tmp_path / 'two.py', tmp_path)

    # the same images were mixed with the same partners, iteration by
    # iteration (and not trivially: partners differ from one epoch to the
    # next)
    single, r0, r1 = _per_rank(tmp_path, 'mixed_pairs')
    assert len(single) == len(r0) == len(r1) == 44
    for s, a, b in zip(single, r0, r1):
        assert len(s) == 8 and len(a) == len(b) == 4
        assert s == sorted(a + b)
    assert single[:22] != single[22:]

    # weights after 44 steps of AdamW with layer decay: the same up to
    # float rounding
    _assert_same_weights(tmp_path / 'one', tmp_path / 'two', 'epoch_2.pth')


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


HANG = '''
custom_imports = dict(imports=['reliab_plugins.stop_rank'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='StopRankHook', rank=1, at_iter=2)]
env_cfg = dict(dist_cfg=dict(timeout=4))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
'''


@pytest.mark.slow
def test_stopped_rank_is_named_within_the_timeout(tmp_path):
    # rank 1 freezes itself (SIGSTOP) before its third step; rank 0 then
    # waits in the gradient all-reduce. With a 4 s timeout it must fail
    # within seconds, naming rank 1, rather than wait 30 minutes silently.
    cfg = write_config(tmp_path, batch_size=8, split='val', extra=HANG)
    cmd = [PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           '--master_addr=127.0.0.1', f'--master_port={free_port()}', TRAIN,
           cfg, '--work-dir', str(tmp_path / 'work'), '--launcher', 'pytorch']
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    lines, stopped_at, failed_at, frozen_pid = [], None, None, None
    try:
        deadline = time.time() + 240
        for line in proc.stdout:
            lines.append(line)
            if 'rank 1 stops itself' in line and stopped_at is None:
                stopped_at = time.time()
                frozen_pid = int(line.rsplit('(pid ', 1)[1].split(')')[0])
            if 'DistributedTimeoutError: rank 0' in line:
                failed_at = time.time()
                break
            assert time.time() < deadline, ''.join(lines[-50:])
    finally:
        # the frozen rank ignores torchrun's SIGTERM: end the whole group,
        # and the frozen rank by its pid (it may sit in a group of its own)
        for kill, pid in ((os.killpg, proc.pid), (os.kill, frozen_pid)):
            try:
                if pid is not None:
                    kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
    out = ''.join(lines)
    assert stopped_at is not None and failed_at is not None, out[-6000:]
    assert failed_at - stopped_at < 60
    assert ('a collective in iteration 3 did not complete within 4 s '
            '(env_cfg.dist_cfg.timeout); rank(s) [1] did not answer') in out
    assert 'process group: gloo, 2 processes; a collective that waits ' \
        'more than 4 s (env_cfg.dist_cfg.timeout)' in out
