"""SimMIM: block mask generator, mask-token encoder, masked L1 loss, configs.

Models are tiny (32 px images, 4 px patches, 32-d, 2 blocks) so the whole
file runs in seconds on a shared 2-core machine.
"""
import glob
import math
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.optim import OptimWrapper

import easymae  # noqa: F401 (registers components)
from easymae.datasets import PipelineDataset
from easymae.datasets.transforms import SimMIMMaskGenerator
from easymae.models import SimMIM, VisionTransformer
from easymae.models.heads import SimMIMHead
from easymae.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIMMIM_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs/selfsup/simmim/*.py')))


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    # Tiny models on a shared 2-core machine: a second intra-op thread
    # mostly waits for the other (10x slower steps under load measured).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module')
def digits_dataset():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/digits_simmim.py'))
    return PipelineDataset(**{k: v for k, v in cfg.train_dataloader.dataset
                              .items() if k != 'type'})


def tiny_simmim(**kwargs):
    cfg = dict(
        type='SimMIM', mask_patch_size=8, mask_ratio=0.6,
        backbone=dict(type='VisionTransformer', img_size=32, patch_size=4,
                      embed_dim=32, depth=2, num_heads=2),
        neck=dict(type='SimMIMDecoder'), head=dict(type='SimMIMHead'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def coarse_cells(mask, scale):
    """(h, w) fine mask -> (h/s, w/s) coarse cells, asserting that every
    coarse cell is uniformly 0 or 1 on the fine grid."""
    h, w = mask.shape
    blocks = np.asarray(mask).reshape(h // scale, scale, w // scale, scale)
    lo, hi = blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))
    assert (lo == hi).all(), 'a mask block is partly masked'
    return lo


# ---------------------------------------------------------------- mask
@pytest.mark.parametrize('size,mask_p,model_p,ratio', [
    (224, 32, 16, 0.6),   # ViT-B reference: 7x7 cells, 30 masked
    (192, 32, 4, 0.6),    # Swin reference: 6x6 cells, 22 masked
    (32, 8, 4, 0.6),      # our 32 px configs: 4x4 cells, 10 masked
    (32, 8, 4, 0.3),
    (64, 16, 16, 0.5),    # mask patch == model patch
])
def test_mask_generator_count_and_blocks_exact(size, mask_p, model_p, ratio):
    gen = SimMIMMaskGenerator(size, mask_p, model_p, ratio)
    cells = (size // mask_p) ** 2
    expected = math.ceil(cells * ratio)
    scale = mask_p // model_p
    seen = np.zeros((size // mask_p, size // mask_p))
    for _ in range(50):
        mask = gen(dict(img=np.zeros((size, size, 3), np.uint8)))['mask']
        assert mask.shape == (size // model_p, size // model_p)
        assert mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1}
        coarse = coarse_cells(mask, scale)
        assert coarse.sum() == expected
        assert mask.sum() == expected * scale * scale
        seen += coarse
    # random placement: every cell gets masked in some draw, none in all
    assert (seen > 0).all() and (seen < 50).all()


def test_mask_generator_follows_numpy_seed():
    gen = SimMIMMaskGenerator(32, 8, 4, 0.6)
    np.random.seed(3)
    a = [gen.generate() for _ in range(3)]
    np.random.seed(3)
    b = [gen.generate() for _ in range(3)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any((x != a[0]).any() for x in a[1:])


def test_mask_generator_non_square_input():
    gen = SimMIMMaskGenerator((64, 32), 16, 4, 0.5)
    mask = gen({})['mask']
    assert mask.shape == (16, 8)
    assert coarse_cells(mask, 4).sum() == 4


@pytest.mark.parametrize('kwargs,match', [
    (dict(input_size=40, mask_patch_size=32, model_patch_size=16),
     r'input_size 40 is not divisible by mask_patch_size 32'),
    (dict(input_size=192, mask_patch_size=24, model_patch_size=16),
     r'mask_patch_size 24 is not divisible by model_patch_size 16'),
    (dict(input_size=32, mask_patch_size=8, model_patch_size=4,
          mask_ratio=1.0), r'mask_ratio must be in \(0, 1\)'),
    (dict(input_size=32, mask_patch_size=8, model_patch_size=4,
          mask_ratio=0.0), r'mask_ratio must be in \(0, 1\)'),
    (dict(input_size=32, mask_patch_size=0, model_patch_size=4),
     r'patch sizes must be positive'),
])
def test_mask_generator_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimMIMMaskGenerator(**kwargs)


def test_mask_generator_rejects_image_of_other_size():
    gen = SimMIMMaskGenerator(32, 8, 4)
    with pytest.raises(ValueError, match=r'image is \(48, 48\).*a\.jpg'):
        gen(dict(img=np.zeros((48, 48, 3), np.uint8), img_path='a.jpg'))


def test_digits_pipeline_batches_masks(digits_dataset):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/digits_simmim.py'))
    mae_cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/digits_mae.py'))
    # digits_mae's steps are reused; only the packing differs
    assert cfg.train_pipeline[:-2] == mae_cfg.train_pipeline[:-1]
    assert cfg.train_dataloader.dataset.pipeline == cfg.train_pipeline
    ds = digits_dataset
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 3, 32, 32)
    mask = batch['data_samples']['mask']
    assert isinstance(mask, torch.Tensor) and mask.shape == (4, 8, 8)
    for m in mask:
        assert coarse_cells(m.numpy(), 2).sum() == 10


def test_cifar_pipeline_on_real_jpegs(shared_data):
    sample = osp.join(shared_data, 'cifar10', 'sample')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/cifar10_simmim.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds = PipelineDataset(
        data_source=dict(type='ImageFolder', root=osp.join(sample, 'train')),
        pipeline=ds_cfg.pipeline)
    batch = default_collate([ds[i] for i in range(0, 40, 10)])
    assert batch['inputs'].dtype == torch.uint8
    assert batch['inputs'].shape == (4, 3, 32, 32)
    assert batch['data_samples']['mask'].shape == (4, 8, 8)


# --------------------------------------------------------------- model
def test_masked_positions_get_mask_token_unmasked_patch_embedding():
    torch.manual_seed(0)
    model = tiny_simmim().eval()
    imgs = torch.randn(3, 3, 32, 32)
    mask = model.generate_mask(3)
    seen = {}
    hook = model.backbone.blocks[0].register_forward_pre_hook(
        lambda mod, args: seen.setdefault('tokens', args[0].detach()))
    with torch.no_grad():
        model.forward_encoder(imgs, mask)
        patches = model.backbone.patch_embed(imgs)
    hook.remove()
    tokens = seen['tokens']  # (N, 1 + L, D), cls first
    pos = model.backbone.pos_embed
    assert tokens.shape == (3, 65, 32)
    torch.testing.assert_close(
        tokens[:, 0],
        (model.backbone.cls_token + pos[:, :1]).reshape(1, 32).expand(3, -1))
    content = tokens[:, 1:] - pos[:, 1:]  # positions are added to both
    m = mask.flatten(1).bool()
    assert 0 < m.sum() < m.numel()
    torch.testing.assert_close(
        content[m], model.mask_token.reshape(1, 32).expand(int(m.sum()), -1))
    torch.testing.assert_close(content[~m], patches[~m])


def test_encoder_output_is_a_feature_map_and_decoder_makes_pixels():
    model = tiny_simmim().eval()
    imgs = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        z = model.forward_encoder(imgs, model.generate_mask(2))
        rec = model.forward_decoder(z)
    assert z.shape == (2, 32, 8, 8)
    assert rec.shape == imgs.shape
    assert model.neck.conv.out_channels == 4 * 4 * 3


def test_loss_ignores_unmasked_pixels():
    torch.manual_seed(0)
    head = SimMIMHead(patch_size=4, in_chans=3)
    mask = tiny_simmim().generate_mask(2)  # (2, 8, 8)
    pix = head.pixel_mask(mask).expand(2, 3, 32, 32).bool()
    pred, target = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    base = head.loss(pred, target, mask)

    noise = torch.randn_like(pred) * 10
    pred2 = torch.where(pix, pred, pred + noise)
    target2 = torch.where(pix, target, target - noise)
    torch.testing.assert_close(head.loss(pred2, target, mask), base)
    torch.testing.assert_close(head.loss(pred, target2, mask), base)
    # ... while a masked pixel does count
    pred3 = torch.where(pix, pred + noise, pred)
    assert not torch.isclose(head.loss(pred3, target, mask), base)


def test_loss_normalisation_is_per_masked_pixel_and_channel():
    head = SimMIMHead(patch_size=4, in_chans=3)
    mask = tiny_simmim().generate_mask(2)
    target = torch.randn(2, 3, 32, 32)
    pix = head.pixel_mask(mask).expand(2, 3, 32, 32).bool()
    # error 0.5 on every masked pixel and channel, 100 elsewhere
    pred = torch.where(pix, target + 0.5, target + 100.0)
    n = float(head.pixel_mask(mask).sum())
    expected = 0.5 * n * 3 / (n + 1e-5) / 3
    assert head.loss(pred, target, mask).item() == pytest.approx(expected)


def test_mask_sources_and_bad_masks():
    model = tiny_simmim()
    imgs = torch.randn(2, 3, 32, 32)
    # no mask given: drawn on the device with the exact block count
    mask = model.get_mask(imgs, None)
    assert mask.shape == (2, 8, 8)
    for m in mask:
        assert coarse_cells(m.numpy(), 2).sum() == 10
    assert torch.isfinite(model(imgs, None, mode='loss')['loss'])
    # a data mask is used as given
    given = torch.zeros(2, 8, 8, dtype=torch.uint8)
    given[:, :4] = 1
    assert torch.equal(model.get_mask(imgs, dict(mask=given)), given)
    device_only = tiny_simmim(mask_source='device')
    assert not torch.equal(device_only.get_mask(imgs, dict(mask=given)),
                           given)
    data_only = tiny_simmim(mask_source='data')
    with pytest.raises(KeyError, match='SimMIMMaskGenerator'):
        data_only.loss(imgs, {})
    with pytest.raises(ValueError, match=r'mask has shape \(2, 4, 4\)'):
        model.loss(imgs, dict(mask=torch.ones(2, 4, 4)))
    with pytest.raises(ValueError, match='mask_source'):
        tiny_simmim(mask_source='pipeline')
    with pytest.raises(ValueError, match='img_size 32 is not divisible'):
        tiny_simmim(mask_patch_size=6)
    with pytest.raises(ValueError, match='not divisible by the backbone'):
        tiny_simmim(mask_patch_size=2)


def test_predict_returns_reconstructions():
    model = tiny_simmim()
    out = model(torch.randn(2, 3, 32, 32), None, mode='predict')
    assert len(out) == 2
    assert out[0]['pred'].shape == (3, 32, 32)
    assert out[0]['mask'].shape == (8, 8)
    assert torch.isfinite(out[0]['loss'])


def test_bf16_autocast_loss_and_backward():
    model = tiny_simmim()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model(torch.randn(2, 3, 32, 32), None, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss) and model.mask_token.grad is not None


def test_seeded_tiny_run_loss_falls(digits_dataset):
    """Real AdamW steps through mmengine's train_step on real digits."""
    torch.manual_seed(0)
    np.random.seed(0)
    loader = torch.utils.data.DataLoader(
        digits_dataset, batch_size=32, shuffle=True,
        collate_fn=default_collate,
        drop_last=True)
    model = tiny_simmim(mask_source='data')
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3),
                           clip_grad=dict(max_norm=5.0))
    losses = []
    it = iter(loader)
    for _ in range(30):
        losses.append(model.train_step(next(it), wrapper)['loss'].item())
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert all(math.isfinite(v) for v in losses)
    assert last < 0.8 * first, (first, last)


# ------------------------------------------------- checkpoint key layout
def test_state_dict_is_timm_backbone_plus_pretraining_only_keys():
    import timm.models.vision_transformer as timm_vit
    model = tiny_simmim()
    sd = model.state_dict()
    extra = sorted(k for k in sd if not k.startswith('backbone.'))
    assert extra == ['mask_token', 'neck.conv.bias', 'neck.conv.weight']
    backbone = {k[len('backbone.'):]: v for k, v in sd.items()
                if k.startswith('backbone.')}
    # the backbone converts to timm by prefix alone, and computes the same
    ref = timm_vit.VisionTransformer(img_size=32, patch_size=4, embed_dim=32,
                                     depth=2, num_heads=2, num_classes=0)
    ref.load_state_dict(backbone, strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ref.forward_features(x),
                                   model.backbone.forward_features(x))
    # ... and into our classifier backbone (mean pooling: fc_norm is new)
    cls = VisionTransformer(img_size=32, patch_size=4, embed_dim=32, depth=2,
                            num_heads=2, global_pool='avg')
    missing, unexpected = cls.load_state_dict(backbone, strict=False)
    assert sorted(missing) == ['fc_norm.bias', 'fc_norm.weight']
    assert sorted(unexpected) == ['norm.bias', 'norm.weight']


def test_checkpoint_converts_to_classifier_backbone(tmp_path):
    """The hub converter keeps backbone.* and drops mask_token and neck.*;
    a mean-pooling classifier backbone initialises from it strictly."""
    from easymae.hub import check_complete, to_timm
    model = tiny_simmim()
    path = tmp_path / 'simmim.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(path))
    conv = to_timm(torch.load(str(path), weights_only=True))
    assert conv.layout == 'easymae'
    assert sorted(conv.dropped) == ['mask_token', 'neck.conv.bias',
                                    'neck.conv.weight']
    check_complete(conv)  # a whole timm ViT encoder, nothing unexpected
    vit = MODELS.build(dict(
        type='VisionTransformer', img_size=32, patch_size=4, embed_dim=32,
        depth=2, num_heads=2, global_pool='avg',
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    vit.init_weights()
    for name, value in vit.state_dict().items():
        if not name.startswith('fc_norm'):
            torch.testing.assert_close(
                value, model.state_dict()['backbone.' + name])


# ------------------------------------------------------------- configs
def test_all_simmim_configs_load_and_build():
    names = [osp.basename(p) for p in SIMMIM_CONFIGS]
    assert 'simmim_vit-base-p16_8xb256-800e_in1k.py' in names
    assert any('digits' in n for n in names)
    assert any('tiny-p4' in n for n in names)
    for path in SIMMIM_CONFIGS:
        cfg = Config.fromfile(path)
        assert cfg.default_scope == 'easymae'
        model_cfg = cfg.model.copy()
        backbone = model_cfg.backbone
        if backbone.img_size > 32:  # keep big ones cheap: 1 block, 64-d
            backbone.update(embed_dim=64, depth=1, num_heads=2)
        model = MODELS.build(model_cfg)
        assert isinstance(model, SimMIM)
        # the pipeline's mask matches the model's patch grid and settings
        steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
        gen = steps['SimMIMMaskGenerator']
        assert gen['input_size'] == backbone.img_size
        assert gen['model_patch_size'] == backbone.patch_size
        assert gen['mask_patch_size'] == cfg.model.mask_patch_size
        assert gen['mask_ratio'] == cfg.model.mask_ratio
        assert 'mask' in steps['PackInputs']['meta_keys']
        assert cfg.auto_scale_lr == dict(base_batch_size=512, enable=True)
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=5.0)
        inputs = torch.randint(0, 256, (1, 3, backbone.img_size,
                                        backbone.img_size), dtype=torch.uint8)
        data = model.data_preprocessor(dict(inputs=inputs), training=True)
        loss = model(**data, mode='loss')['loss']
        assert torch.isfinite(loss)


def test_vit_base_config_is_the_reference_recipe():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/selfsup/simmim/'
        'simmim_vit-base-p16_8xb256-800e_in1k.py'))
    m = cfg.model
    assert (m.backbone.arch, m.backbone.img_size, m.backbone.patch_size) == \
        ('base', 224, 16)
    assert m.backbone.drop_path_rate == 0.1
    assert (m.mask_ratio, m.mask_patch_size) == (0.6, 32)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas), opt.eps,
            opt.weight_decay) == ('AdamW', 1e-4, (0.9, 0.999), 1e-8, 0.05)
    # 8 GPUs x 256 = 2048 images -> lr 4e-4 after linear scaling by /512
    assert cfg.train_dataloader.batch_size == 256
    assert opt.lr * 8 * 256 / cfg.auto_scale_lr.base_batch_size == \
        pytest.approx(4e-4)
    from easymae.config_check import resolve_param_scheduler
    warmup, step = resolve_param_scheduler(cfg.param_scheduler, cfg)
    assert warmup.type == 'LinearLR' and warmup.end == 10
    assert warmup.start_factor * opt.lr == pytest.approx(5e-7)
    assert step.type == 'MultiStepLR'
    # the reference steps at epoch 700; our milestone counts from the
    # scheduler's begin (the warm-up's end)
    assert step.begin + step.milestones[0] == 700 and step.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 800
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop.type == 'RandomResizedCrop' and crop.size == 224
    assert tuple(crop.scale) == (0.67, 1.0)
    assert tuple(crop.ratio) == pytest.approx((3 / 4, 4 / 3))


@pytest.mark.slow
def test_train_tool_on_digits_config(tmp_path):
    """tools/train.py on the embedded default, shrunk to a few iterations:
    the loss falls and the checkpoint loads with weights_only=True."""
    cfg = osp.join(REPO, 'configs/selfsup/simmim/'
                   'simmim_vit-tiny-d6-p4_1xb64-30e_digits.py')
    work = tmp_path / 'wd'
    cmd = [sys.executable, osp.join(REPO, 'tools/train.py'), cfg,
           '--work-dir', str(work), '--cfg-options',
           'train_cfg.max_epochs=3', 'param_scheduler.0.end=1',
           'optim_wrapper.optimizer.lr=1e-2',
           'model.backbone.embed_dim=32', 'model.backbone.depth=1',
           'model.backbone.num_heads=2',
           # the 360-image val split: 11 steps of 32 per epoch
           'train_dataloader.dataset.data_source.split=val',
           'train_dataloader.batch_size=32',
           'default_hooks.logger.interval=5', 'log_processor.window_size=5',
           'default_hooks.checkpoint.interval=3']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    logs = glob.glob(str(work / '*' / '*.log'))
    text = open(logs[0]).read()
    losses = [float(v) for v in re.findall(r'\bloss: ([0-9.]+)', text)]
    # base lr per 512 images: 32 / 512 = 0.0625
    assert 'effective batch size 32' in text and 'lr scaled by 0.0625' in text
    assert len(losses) == 6, text[-2000:]
    assert losses[-1] < 0.95 * losses[0], losses
    ckpt = torch.load(str(work / 'epoch_3.pth'), map_location='cpu',
                      weights_only=True)
    state = ckpt['state_dict']
    assert 'mask_token' in state and 'neck.conv.weight' in state
    assert 'backbone.blocks.0.attn.qkv.weight' in state
    # ... and converts with the hub tool to a timm encoder
    out = tmp_path / 'encoder.pth'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/convert_checkpoint.py'),
         str(work / 'epoch_3.pth'), str(out), '--to', 'timm'],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'mask_token' in proc.stdout  # reported as dropped
    encoder = torch.load(str(out), weights_only=True)
    assert 'mask_token' not in encoder and 'cls_token' in encoder
    assert not any(k.startswith(('neck.', 'backbone.')) for k in encoder)
