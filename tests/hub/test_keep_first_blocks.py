"""MAE-Lite's "keep the first k blocks": a shallower ViT takes the first
blocks of a deeper checkpoint only when asked, and says what it dropped."""
import pytest
import torch

from easymae.fileio.state_dict import CheckpointMismatchError
from easymae.hub.pretrained import load_pretrained_backbone
from easymae.models.backbones.vision_transformer import VisionTransformer

ARCH = dict(arch='tiny', img_size=16, patch_size=4, embed_dim=32,
            num_heads=2)


@pytest.fixture
def deep_checkpoint(tmp_path):
    """A 4-block encoder saved as our pretraining runs save it."""
    torch.manual_seed(0)
    deep = VisionTransformer(depth=4, **ARCH)
    path = tmp_path / 'epoch_1.pth'
    state = {'backbone.' + k: v for k, v in deep.state_dict().items()}
    state['neck.mask_token'] = torch.zeros(1, 1, 32)
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, path)
    return deep, str(path)


def shallow(depth, checkpoint, **init):
    vit = VisionTransformer(depth=depth, **ARCH, init_cfg=dict(
        type='Pretrained', checkpoint=checkpoint, **init))
    vit.init_weights()
    return vit


def test_first_blocks_of_a_deeper_checkpoint(deep_checkpoint):
    deep, path = deep_checkpoint
    vit = shallow(2, path, keep_first_blocks=True)
    ours, theirs = vit.state_dict(), deep.state_dict()
    for key, value in ours.items():
        if not key.startswith(('fc_norm.', 'head.')):
            assert torch.equal(value, theirs[key]), key
    assert any(k.startswith('blocks.1.') for k in ours)
    assert not any(k.startswith('blocks.2.') for k in ours)
    # the report names what was left out, and why
    conv = load_pretrained_backbone(VisionTransformer(depth=2, **ARCH), path,
                                    keep_first_blocks=True)
    dropped = {k for k, why in conv.dropped.items()
               if why == "beyond the model's 2 blocks (keep_first_blocks)"}
    assert dropped == {k for k in deep.state_dict()
                       if k.startswith(('blocks.2.', 'blocks.3.'))}


def test_depth_mismatch_is_still_refused_unless_asked(deep_checkpoint):
    _, path = deep_checkpoint
    with pytest.raises(CheckpointMismatchError,
                       match='depth: checkpoint has 4 blocks, model has 2'):
        shallow(2, path)
    # a deeper model than the checkpoint has nothing to keep
    with pytest.raises(CheckpointMismatchError, match='missing keys'):
        shallow(6, path, keep_first_blocks=True)
