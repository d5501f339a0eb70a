"""Zero-shot classification end to end from configs, the metric alone, and
the masked -> unmasked-tuning chain through a real checkpoint."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from flip_utils import REPO, shared_data, tiny_flip_cfg

import easymae  # noqa: F401
from easymae.apis import build_runner, load_config
from easymae.datasets import PipelineDataset
from easymae.datasets.transforms.tokenize import Tokenize
from easymae.evaluation import ZeroShotAccuracy, get_templates
from easymae.registry import MODELS

FLIP_CFGS = osp.join(REPO, 'configs', 'selfsup', 'flip')


def test_zero_shot_accuracy_metric_on_fixed_scores():
    metric = ZeroShotAccuracy(topk=(1, 2))
    scores = torch.tensor([[0.1, 0.7, 0.2],   # top1 1, top2 {1,2}
                           [0.5, 0.2, 0.3],   # top1 0, top2 {0,2}
                           [0.35, 0.25, 0.4],  # top1 2, top2 {2,0}
                           [0.6, 0.1, 0.3]])  # top1 0, top2 {0,2}
    labels = [1, 2, 0, 1]  # top1 hits: row 0; top2 hits: rows 0, 1, 2
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor(y))
                          for s, y in zip(scores, labels)])
    out = metric.evaluate(4)
    assert out == {'zero_shot/top1': 25.0, 'zero_shot/top2': 75.0}
    too_many = ZeroShotAccuracy(topk=(5, ))
    too_many.process(None, [dict(pred_score=scores[0], gt_label=1)])
    with pytest.raises(ValueError, match='top-5 asked for 3 classes'):
        too_many.evaluate(1)


def test_predict_without_class_embeddings_says_what_to_add():
    model = MODELS.build(tiny_flip_cfg())
    with pytest.raises(RuntimeError, match='ZeroShotClassifierHook'):
        model(torch.zeros(1, 3, 16, 16), None, mode='predict')


def _cifar_or_digits_cfg(tmp_path):
    """The CIFAR-10 captions config, on ../shared/data's sample when it is
    there, else on the embedded Digits (same code path, other classes)."""
    cfg = load_config(osp.join(
        FLIP_CFGS, 'flip_vit-tiny-d4-p4_1xb64-50e_cifar10-captions.py'))
    try:
        root = shared_data('cifar10', 'sample')
        train_src = dict(type='ImageFolder', root=osp.join(root, 'train'))
        val_src = dict(type='ImageFolder', root=osp.join(root, 'val'))
        templates = 'cifar'
    except pytest.skip.Exception:
        train_src = dict(type='Digits', split='train')
        val_src = dict(type='Digits', split='val', val_fraction=0.05)
        templates = 'digits'
    cfg.train_dataloader.dataset.data_source.data_source = train_src
    cfg.train_dataloader.dataset.data_source.templates = templates
    cfg.val_dataloader.dataset.data_source = val_src
    cfg.test_dataloader.dataset.data_source = val_src
    cfg.custom_hooks = [dict(type='ZeroShotClassifierHook',
                             templates=templates)]
    cfg.model.backbone.depth = 1
    cfg.model.text_backbone.depth = 1
    cfg.train_dataloader.batch_size = 32
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=6,
                         val_interval=6)
    cfg.param_scheduler = []
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=3)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        by_epoch=False, interval=6)
    return cfg, templates


@pytest.mark.slow
def test_zero_shot_top1_end_to_end_from_config(tmp_path):
    cfg, templates = _cifar_or_digits_cfg(tmp_path)
    runner = build_runner(cfg, work_dir=str(tmp_path / 'wd'))
    runner.train()
    metrics = runner.test()
    top1, top5 = metrics['zero_shot/top1'], metrics['zero_shot/top5']
    assert 0.0 <= top1 <= top5 <= 100.0

    # the same number, recomputed by hand from the trained model
    model = runner.model.eval()
    val = PipelineDataset(cfg.test_dataloader.dataset.data_source,
                          cfg.test_dataloader.dataset.pipeline)
    tok = Tokenize(context_length=model.context_length)
    with torch.no_grad():
        classes = []
        for name in val.metainfo['classes']:
            caps = tok.tokenize([t.format(name)
                                 for t in get_templates(templates)])
            feats = F.normalize(model.text_backbone(caps), dim=-1)
            classes.append(F.normalize(feats.mean(0), dim=-1))
        classes = torch.stack(classes)
        hits = 0
        for i in range(len(val)):
            s = val[i]
            x = model.data_preprocessor(
                dict(inputs=s['inputs'][None]), False)['inputs']
            img = F.normalize(model.image_proj(model.backbone.pool(
                model.backbone.encode(model.backbone.prepend_cls(
                    model.backbone.embed(x))))), dim=-1)
            hits += int((img @ classes.t()).argmax() ==
                        s['data_samples']['gt_label'])
    assert top1 == pytest.approx(100.0 * hits / len(val), abs=1e-4)

    # tools/zero_shot.py on the saved checkpoint gives the same figures
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'zero_shot_tool', osp.join(REPO, 'tools', 'zero_shot.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg_file = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_file)
    again = tool.main([cfg_file, str(tmp_path / 'wd' / 'iter_6.pth'),
                       '--work-dir', str(tmp_path / 'eval')])
    assert again['zero_shot/top1'] == pytest.approx(top1)
    assert again['zero_shot/top5'] == pytest.approx(top5)


@pytest.mark.slow
def test_unmasked_tuning_starts_from_the_masked_checkpoint(tmp_path):
    root = shared_data('coco_captions_mini')
    name = 'flip_vit-tiny-d4-p8_1xb16-30e_coco-captions-mini.py'
    tuning = ('flip_vit-tiny-d4-p8_unmasked-tuning_1xb16-5e_'
              'coco-captions-mini.py')

    def shrink(cfg):
        cfg.train_dataloader.dataset.data_source.data_root = root
        cfg.model.backbone.depth = 1
        cfg.model.text_backbone.depth = 1
        cfg.train_cfg.max_epochs = 1
        cfg.param_scheduler = []
        return cfg

    masked = build_runner(shrink(load_config(osp.join(FLIP_CFGS, name))),
                          work_dir=str(tmp_path / 'masked'))
    assert masked.model.mask_ratio == 0.5
    masked.train()
    ckpt = tmp_path / 'masked' / 'epoch_1.pth'
    assert ckpt.is_file()

    cfg = shrink(load_config(osp.join(FLIP_CFGS, tuning)))
    assert cfg.model.mask_ratio == 0.0 and 'epoch_30.pth' in cfg.load_from
    cfg.load_from = str(ckpt)
    tuner = build_runner(cfg, work_dir=str(tmp_path / 'tuning'))
    tuner.load_or_resume()
    state = torch.load(ckpt, weights_only=True)['state_dict']
    for k, v in tuner.model.state_dict().items():
        assert torch.equal(v, state[k]), k
    seen = []
    tuner.model.backbone.blocks[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].shape[1]))
    tuner.train()
    assert seen and set(seen) == {tuner.model.backbone.num_patches + 1}
