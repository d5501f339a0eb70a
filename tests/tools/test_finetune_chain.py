"""The pretrain -> finetune -> test chain from the shipped configs, on a tiny
ViT: real tools/train.py and tools/test.py processes, real digits data."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

import easymae  # noqa: F401
from easymae.apis import build_runner, load_config
from easymae.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = 'configs/selfsup/mae/mae_vit-tiny-d6-p4_1xb64-30e_digits.py'
FINETUNE = ('configs/classification/mae/'
            'vit-tiny-d6-p4_1xb64-coslr-10e_digits.py')
TINY_VIT = ['model.backbone.embed_dim=32', 'model.backbone.depth=2',
            'model.backbone.num_heads=2']
# train on 10% of the digits (180 images, 2 steps an epoch) to stay quick;
# the held-out 'val' split (the first 20% of each class) stays disjoint
FEW_TRAIN = ['train_dataloader.dataset.data_source.val_fraction=0.9']
TINY_DECODER = ['model.neck.decoder_embed_dim=32',
                'model.neck.decoder_depth=1', 'model.neck.decoder_num_heads=2']


def run_tool(*args):
    proc = subprocess.run([sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def pretrain_ckpt(tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    run_tool('tools/train.py', PRETRAIN, '--work-dir', str(work),
             '--cfg-options', 'train_cfg.max_epochs=1',
             'default_hooks.checkpoint.interval=1', *TINY_VIT, *TINY_DECODER,
             *FEW_TRAIN)
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    return str(ckpt)


def finetune_cfg(checkpoint, config=FINETUNE):
    opts = {k: int(v) for k, v in (o.split('=') for o in TINY_VIT)}
    opts['model.backbone.init_cfg.checkpoint'] = checkpoint
    return load_config(osp.join(ROOT, config), opts)


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    FINETUNE,  # global pool: the checkpoint's final norm is not used
    FINETUNE.replace('1xb64', 'linear-probe_1xb64'),  # cls token + norm
    FINETUNE.replace('1xb64', 'partial-ft-k2_1xb64')])
def test_finetune_config_loads_the_pretrained_encoder(pretrain_ckpt, config):
    cfg = finetune_cfg(pretrain_ckpt, config)
    model = MODELS.build(cfg.model)
    fresh_head = model.head.fc.weight.detach().clone()
    model.init_weights()
    pre = torch.load(pretrain_ckpt, weights_only=True)['state_dict']
    ours = model.state_dict()
    enc = [k for k in pre if k.startswith('backbone.') and k in ours]
    assert 'backbone.blocks.1.mlp.fc2.weight' in enc
    assert 'backbone.pos_embed' in enc
    for k in enc:
        assert torch.equal(ours[k], pre[k]), k
    uses_norm = model.backbone.global_pool == 'token'
    assert ('backbone.norm.weight' in enc) == uses_norm
    # the classifier's own parts are not in a pretrain checkpoint
    assert torch.equal(model.head.fc.weight, fresh_head)


@pytest.mark.slow
def test_chain_train_then_test_reports_top1(pretrain_ckpt, tmp_path):
    work = tmp_path / 'finetune'
    out = run_tool(
        'tools/train.py', FINETUNE, '--work-dir', str(work), '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={pretrain_ckpt}',
        'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
        *TINY_VIT, *FEW_TRAIN)
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file(), out
    logs = ''.join(open(f).read() for f in glob.glob(
        str(work / '*' / '*.log')))
    assert 'loaded pretrained weights' in logs
    assert 'layer-wise lr decay 0.75' in logs
    # the validation top-1 logged in training, for the same weights
    scalars = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    val = [json.loads(line) for line in open(scalars[0])
           if 'accuracy/top1' in line][-1]

    out = run_tool('tools/test.py', FINETUNE, str(ckpt), '--work-dir',
                   str(tmp_path / 'test'), '--cfg-options', *TINY_VIT)
    metrics = json.loads(out.strip().splitlines()[-1])
    assert 'top1' in out.strip().splitlines()[-2]
    top1, top5 = metrics['accuracy/top1'], metrics['accuracy/top5']
    assert 0.0 <= top1 <= top5 <= 100.0
    assert top1 == pytest.approx(val['accuracy/top1'], abs=1e-3)
    assert top5 == pytest.approx(val['accuracy/top5'], abs=1e-3)


@pytest.mark.slow
def test_test_tool_refuses_a_checkpoint_of_another_model(pretrain_ckpt,
                                                          tmp_path):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        import test as test_tool
    finally:
        sys.path.pop(0)
    with pytest.raises(ValueError) as err:
        test_tool.main([osp.join(ROOT, FINETUNE), pretrain_ckpt,
                        '--work-dir', str(tmp_path), '--cfg-options',
                        *TINY_VIT])
    msg = str(err.value)
    assert pretrain_ckpt in msg and 'head.fc.weight' in msg
    assert 'neck.' in msg  # the MAE decoder keys are unexpected here


@pytest.mark.slow
def test_missing_pretrain_checkpoint_is_a_clear_error(tmp_path):
    missing = str(tmp_path / 'no_such_pretrain.pth')
    runner = build_runner(finetune_cfg(missing), work_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        runner.train()  # the runner initialises weights before any step
    assert missing in str(err.value)
    assert not glob.glob(str(tmp_path / '*.pth'))


def test_scratch_variant_has_no_pretrained_init():
    cfg = load_config(osp.join(
        ROOT, FINETUNE.replace('-p4_1xb64', '-p4_scratch_1xb64')))
    assert cfg.model.backbone.init_cfg is None
    base = load_config(osp.join(ROOT, FINETUNE))
    # the same recipe otherwise, but no layer decay from random init
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 1.0
    assert cfg.optim_wrapper.optimizer == base.optim_wrapper.optimizer
    for key in ('param_scheduler', 'train_dataloader', 'train_cfg',
                'val_dataloader'):
        assert cfg[key] == base[key], key
    base.model.backbone.init_cfg = None
    assert cfg.model == base.model


@pytest.mark.slow
def test_pretrain_of_another_width_is_a_clear_error(pretrain_ckpt):
    # the shipped config wants a 192-d ViT-Tiny; the checkpoint is 32-d
    cfg = load_config(osp.join(ROOT, FINETUNE), {
        'model.backbone.init_cfg.checkpoint': pretrain_ckpt,
        'model.backbone.depth': 2})
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError) as err:
        model.init_weights()
    msg = str(err.value)
    assert pretrain_ckpt in msg
    assert 'width' in msg and '32' in msg and '192' in msg
