"""MAE: shapes, masking properties, loss on masked patches only, learning."""
import pytest
import torch

from easymae.models import MAE
from easymae.models.utils import (
    get_2d_sincos_pos_embed,
    patchify,
    random_masking,
    unpatchify,
)


def tiny_mae(**kw):
    cfg = dict(
        backbone=dict(type='VisionTransformer', img_size=16, patch_size=4,
                      embed_dim=32, depth=2, num_heads=2),
        neck=dict(type='MAEDecoder', decoder_embed_dim=16, decoder_depth=1,
                  decoder_num_heads=2),
        head=dict(type='MAEPretrainHead', norm_pix=True))
    cfg.update(kw)
    return MAE(**cfg)


def test_random_masking_properties():
    torch.manual_seed(0)
    x = torch.randn(3, 16, 5)
    kept, mask, ids_restore, ids_keep = random_masking(x, 0.75)
    assert kept.shape == (3, 4, 5)                   # exactly L*(1-r) kept
    assert torch.equal(mask.sum(1), torch.full((3,), 12.))
    for n in range(3):
        # mask is 0 exactly on kept positions, 1 on removed ones
        expect = torch.ones(16)
        expect[ids_keep[n]] = 0
        assert torch.equal(mask[n], expect)
        assert torch.equal(kept[n], x[n, ids_keep[n]])
    # ids_restore inverts the shuffle
    ids_shuffle = torch.argsort(ids_restore, dim=1)
    restored = torch.gather(ids_shuffle, 1, ids_restore)
    assert torch.equal(restored, torch.arange(16).expand(3, -1))


def test_masking_matches_reference_noise_rule():
    # the lowest-noise tokens are kept, noise drawn as torch.rand(N, L)
    torch.manual_seed(123)
    x = torch.randn(2, 8, 3)
    torch.manual_seed(7)
    _, mask, _, ids_keep = random_masking(x, 0.5)
    torch.manual_seed(7)
    noise = torch.rand(2, 8)
    expected_keep = noise.argsort(dim=1)[:, :4]
    assert torch.equal(ids_keep, expected_keep)


def test_patchify_roundtrip():
    imgs = torch.randn(2, 3, 16, 16)
    p = patchify(imgs, 4)
    assert p.shape == (2, 16, 48)
    # patch 1 is row 0, columns 4..7, pixels in (p, q, c) order
    assert torch.equal(p[0, 1, :3], imgs[0, :, 0, 4])
    assert torch.equal(unpatchify(p, 4), imgs)


def test_sincos_table_matches_reference_formula():
    table = get_2d_sincos_pos_embed(8, 3, cls_token=True)
    assert table.shape == (10, 8)
    assert torch.equal(table[0], torch.zeros(8))
    # token for (row 1, col 2): first half encodes the column
    tok = table[1 + 1 * 3 + 2]
    omega = 1.0 / 10000 ** (torch.arange(2, dtype=torch.float64) / 2)
    col = torch.cat([torch.sin(2 * omega), torch.cos(2 * omega)])
    row = torch.cat([torch.sin(1 * omega), torch.cos(1 * omega)])
    torch.testing.assert_close(tok, torch.cat([col, row]).float())


def test_mae_shapes_and_visible_token_count():
    torch.manual_seed(0)
    model = tiny_mae()
    imgs = torch.randn(2, 3, 16, 16)
    seen = {}

    def record(module, args, output):
        seen.setdefault('tokens', args[0].shape)  # returns None: no change

    model.backbone.blocks[0].register_forward_hook(record)
    latent, mask, ids_restore = model.forward_encoder(imgs, 0.75)
    assert seen['tokens'] == (2, 1 + 4, 32)   # cls + 25% of 16 patches
    assert latent.shape == (2, 5, 32)
    pred = model.forward_decoder(latent, ids_restore)
    assert pred.shape == (2, 16, 4 * 4 * 3)
    assert model(imgs, mode='loss')['loss'].ndim == 0


def test_loss_ignores_visible_patches():
    torch.manual_seed(0)
    model = tiny_mae()
    imgs = torch.randn(2, 3, 16, 16)
    noise = torch.rand(2, 16)
    latent, mask, ids_restore = model.forward_encoder(imgs, 0.75, noise)
    pred = model.forward_decoder(latent, ids_restore)
    loss = model.forward_loss(imgs, pred, mask)
    changed = pred.clone()
    changed[mask == 0] += 100.0            # garbage on visible patches only
    assert torch.equal(model.forward_loss(imgs, changed, mask), loss)
    changed[mask == 1] += 1.0               # but masked ones count
    assert model.forward_loss(imgs, changed, mask) > loss


def test_norm_pix_switch_changes_target():
    imgs = torch.rand(1, 3, 16, 16) * 5 + 3
    on = tiny_mae().head.target(imgs)
    off = tiny_mae(head=dict(type='MAEPretrainHead', norm_pix=False)
                   ).head.target(imgs)
    torch.testing.assert_close(off, patchify(imgs, 4))
    torch.testing.assert_close(on.mean(-1), torch.zeros(1, 16), atol=1e-5,
                               rtol=0)


def test_encoder_mask_token_ablation_sees_every_position():
    torch.manual_seed(0)
    model = tiny_mae(encoder_mask_token=True)
    seen = {}

    def record(module, args, output):
        seen.setdefault('tokens', args[0].shape)  # returns None: no change

    model.backbone.blocks[0].register_forward_hook(record)
    out = model(torch.randn(2, 3, 16, 16), mode='loss')
    assert seen['tokens'] == (2, 17, 32)
    out['loss'].backward()
    assert model.encoder_mask_token.grad.abs().sum() > 0


@pytest.mark.parametrize('bad', [-0.1, 1.0, 1.5])
def test_mask_ratio_out_of_range(bad):
    with pytest.raises(ValueError, match='mask_ratio'):
        tiny_mae(mask_ratio=bad)


def test_image_not_divisible_by_patch():
    with pytest.raises(ValueError, match='not divisible by patch_size'):
        tiny_mae(backbone=dict(type='VisionTransformer', img_size=18,
                               patch_size=4, embed_dim=32, depth=1,
                               num_heads=2))


def test_seeded_tiny_training_loss_falls():
    """A few real AdamW steps on the digits: the reconstruction improves."""
    from easymae.datasets.sources import Digits
    torch.manual_seed(0)
    src = Digits('train', img_size=16)
    imgs = torch.stack([torch.from_numpy(src[i]['img']).permute(2, 0, 1)
                        for i in range(64)]).float()
    imgs = (imgs - 127.5) / 64.0
    model = tiny_mae(head=dict(type='MAEPretrainHead', norm_pix=False))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    noise = torch.rand(64, 16)   # fixed masks: compare like with like
    first = None
    for step in range(60):
        latent, mask, ids = model.forward_encoder(imgs, 0.75, noise)
        loss = model.forward_loss(imgs, model.forward_decoder(latent, ids),
                                  mask)
        if first is None:
            first = loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first
