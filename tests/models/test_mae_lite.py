"""MAE-Lite attention distillation."""
import copy

import torch
from mmengine.config import Config

from easymae.models import MAEAttentionDistill, VisionTransformer
from easymae.models.utils import encode_with_attention

TINY = dict(type='VisionTransformer', img_size=16, patch_size=4,
            embed_dim=32, depth=2, num_heads=4)


def build(teacher, **kw):
    return MAEAttentionDistill(
        backbone=dict(TINY), teacher=teacher,
        neck=dict(type='MAEDecoder', decoder_embed_dim=16, decoder_depth=1,
                  decoder_num_heads=2),
        head=dict(type='MAEPretrainHead'), **kw)


def test_attention_maps_match_fused_forward():
    torch.manual_seed(0)
    vit = VisionTransformer(**{k: v for k, v in TINY.items()
                               if k != 'type'}).eval()
    x = vit.prepend_cls(vit.embed(torch.randn(2, 3, 16, 16)))
    out, maps = encode_with_attention(vit, x, [0, -1])
    torch.testing.assert_close(out, vit.encode(x), atol=1e-5, rtol=1e-5)
    assert maps[1].shape == (2, 4, 17, 17)
    torch.testing.assert_close(maps[1].sum(-1), torch.ones(2, 4, 17))


def test_identical_teacher_gives_zero_attention_loss():
    """Same weights, same visible patches -> identical maps: proves the
    teacher sees exactly the student's visible patches."""
    torch.manual_seed(0)
    model = build(dict(TINY))
    model.teacher.load_state_dict(model.backbone.state_dict())
    losses = model.eval()(torch.randn(2, 3, 16, 16), mode='loss')
    assert losses['loss_attn'].item() < 1e-10
    assert losses['loss_rec'].item() > 0


def test_teacher_frozen_student_learns_heads_adapted():
    torch.manual_seed(0)
    teacher = dict(TINY, embed_dim=48, depth=3, num_heads=6)
    model = build(teacher, student_layers=(-1, 0), teacher_layers=(-1, 0))
    assert isinstance(model.attn_adapter, torch.nn.Conv2d)  # 4 -> 6 heads
    before = copy.deepcopy(model.teacher.state_dict())
    model.train()
    assert not model.teacher.training
    opt = torch.optim.AdamW([p for p in model.parameters()
                             if p.requires_grad], lr=1e-2)
    imgs = torch.randn(4, 3, 16, 16)
    first = None
    for _ in range(15):
        torch.manual_seed(1)  # same masks each step
        losses = model(imgs, mode='loss')
        if first is None:
            first = losses['loss_attn'].item()
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
    assert losses['loss_attn'].item() < first
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_mae_lite_configs_load():
    cfg = Config.fromfile('configs/selfsup/mae_lite/'
                          'mae-lite-distill_vit-tiny-p4_teacher-vit-small_'
                          '1xb256-400e_cifar10.py')
    assert cfg.model.type == 'MAEAttentionDistill'
    assert cfg.model.backbone.num_heads == 12
    assert cfg.model.neck.decoder_embed_dim == 96
    assert cfg.model.teacher.init_cfg.type == 'Pretrained'


def test_distilled_student_checkpoint_loads_into_a_classifier_backbone(
        tmp_path):
    # the frozen teacher and the head adapter belong to pretraining only:
    # the strict loader takes the student's encoder and nothing else
    from easymae.hub.pretrained import load_pretrained_backbone
    teacher = dict(TINY, embed_dim=48, num_heads=6)
    model = build(teacher)
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    assert any(k.startswith('teacher.') for k in model.state_dict())
    assert any(k.startswith('attn_adapter.') for k in model.state_dict())
    target = VisionTransformer(**{k: v for k, v in TINY.items()
                                  if k != 'type'}, global_pool='avg')
    load_pretrained_backbone(target, str(ckpt))
    student = model.backbone.state_dict()
    for key, value in target.state_dict().items():
        if key in student:
            assert torch.equal(value, student[key]), key
    assert torch.equal(target.blocks[1].attn.qkv.weight,
                       model.backbone.blocks[1].attn.qkv.weight)
