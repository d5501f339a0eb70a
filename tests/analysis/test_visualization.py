"""Reconstruction pictures: the un-normalisation and the tool end to end."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from easymae.models import MAE
from easymae.models.heads import MAEPretrainHead
from easymae.models.utils import patchify
from easymae.visualization import denormalize_patches, make_grid, reconstruct

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_denormalize_inverts_norm_pix_target():
    x = torch.rand(2, 3, 16, 16) * 4 - 1
    head = MAEPretrainHead(patch_size=4, norm_pix=True)
    back = denormalize_patches(head.target(x), x, head)
    torch.testing.assert_close(back, patchify(x, 4), atol=1e-4, rtol=1e-4)
    plain = MAEPretrainHead(patch_size=4, norm_pix=False)
    assert torch.equal(denormalize_patches(x, x, plain), x)


def test_grid_layout_and_visible_patches_pasted():
    torch.manual_seed(0)
    model = MAE(backbone=dict(type='VisionTransformer', img_size=16,
                              patch_size=4, embed_dim=32, depth=1,
                              num_heads=2),
                neck=dict(type='MAEDecoder', decoder_embed_dim=16,
                          decoder_depth=1, decoder_num_heads=2),
                head=dict(type='MAEPretrainHead'))
    imgs = torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8)
    parts = reconstruct(model, imgs, torch.rand(3, 16))
    assert parts['original'].shape == (3, 16, 16, 3)
    # visible patches of the pasted image are the original's pixels
    np.testing.assert_allclose(parts['original'].astype(int),
                               imgs.permute(0, 2, 3, 1).numpy(), atol=1)
    grey = (parts['masked'] == 127).all(-1)
    assert 0.7 < grey.mean() < 0.8        # 75% of patches removed
    same = np.abs(parts['pasted'].astype(int) -
                  parts['original'].astype(int)).max(-1) <= 1
    assert same[~grey].all()
    grid = make_grid(parts, pad=2)
    assert grid.shape == (3 * 18 + 2, 4 * 18 + 2, 3)


@pytest.mark.slow
def test_pretrain_hook_and_tool_write_pictures(tiny_mae_checkpoint,
                                               tmp_path):
    """The hook's picture from a real run, then the tool on a real photo."""
    work = tiny_mae_checkpoint.parent
    pic = cv2.imread(str(work / 'reconstructions' / 'epoch_1.png'))
    assert pic is not None and pic.shape[0] == 4 * 34 + 2
    from sklearn.datasets import load_sample_image
    photo = tmp_path / 'china.png'
    cv2.imwrite(str(photo), cv2.cvtColor(load_sample_image('china.jpg'),
                                         cv2.COLOR_RGB2BGR))
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'visualize_mae.py'),
         str(tiny_mae_checkpoint), str(photo), '--out', str(tmp_path)],
        check=True, capture_output=True, text=True, timeout=300)
    grid = cv2.imread(out.stdout.strip().splitlines()[-1])
    assert grid.shape == (34 + 2, 4 * 34 + 2, 3)
