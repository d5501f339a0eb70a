"""The unified image + text model (ViTBERT): gradient masking, distillation,
frozen teachers, joint data, conversion to single-modality encoders, bad
input, and real runs on digits and English text."""
import copy
import os.path as osp
import subprocess

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from reliab_helpers import (
    PYTHON,
    REPO,
    env,
    logged_scalars,
    run_torchrun,
    run_train,
)

import easymae  # noqa: F401 (registers)
from easymae.datasets.joint import JointDataset, JointSampler, joint_collate
from easymae.engine.gradient_mask import (
    GradientMaskOptimWrapper,
    sparsity_by_block,
    topk_mask,
)
from easymae.engine.precision import precision_problem
from easymae.fileio.state_dict import CheckpointMismatchError
from easymae.models.utils.distill import distill_loss
from easymae.registry import MODELS
from easymae.text.wordpiece import train_wordpiece

TEXT = [
    'The river runs past the old mill and under the stone bridge.',
    'In spring the fields by the river turn green and the birds return.',
    'The miller grinds wheat into flour and sells it in the town.',
    'Children walk over the bridge to the school on the hill.',
    'At night the mill is quiet and the river is loud.',
    'The town holds a market by the bridge every week in summer.',
    'A baker buys flour from the miller and bakes bread for the town.',
    'The school bell rings and the children run down the hill.',
    'Boats carry wheat down the river to the market in the city.',
    'In winter the river freezes and the mill stands still.',
]
STUDENT = osp.join(REPO, 'configs', 'selfsup', 'vit_bert',
                   'vit-bert-kd-gm_vit-tiny-d6-p4_1xb32i32t-2kiter_'
                   'digits-wikitext2.py')
SHARED = ('backbone.blocks.', 'backbone.norm.')
DOWNSTREAM = osp.join(REPO, 'configs', 'classification', 'vit_bert')
IMAGE_FINETUNE = osp.join(DOWNSTREAM, 'vit-tiny-d6-p4_vit-bert-pre_1xb64-'
                          'coslr-10e_digits.py')
TEXT_FINETUNE = osp.join(DOWNSTREAM, 'bert-vit-tiny-d6_vit-bert-pre_1xb32-'
                         '10e_sst2-1k.py')


@pytest.fixture(autouse=True)
def easymae_scope():
    with DefaultScope.overwrite_default_scope('easymae'):
        yield


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    """A small English corpus (a paragraph a line) and its vocabulary."""
    root = tmp_path_factory.mktemp('text')
    lines = [f'{a} {b}' for a in TEXT for b in TEXT[::3]]
    (root / 'corpus.txt').write_text('\n'.join(lines) + '\n')
    tok = train_wordpiece(lines, 200, min_frequency=1)
    tok.save(str(root / 'vocab.json'))
    return root, str(root / 'vocab.json'), tok.vocab_size


def student_cfg(vocab, **kw):
    return dict(type='ViTBERT', vocab_file=vocab,
                backbone=dict(type='VisionTransformer', arch='tiny',
                              img_size=16, patch_size=4, embed_dim=32,
                              depth=2, num_heads=2, pos_embed='learned'),
                text_embed=dict(type='TextEmbedding',
                                max_position_embeddings=24),
                image_head=dict(type='MLPClsHead', num_classes=10), **kw)


def image_teacher_cfg(width=16):
    return dict(type='ImageClassifier',
                backbone=dict(type='VisionTransformer', arch='tiny',
                              img_size=16, patch_size=4, embed_dim=width,
                              depth=1, num_heads=2),
                head=dict(type='LinearClsHead', num_classes=10))


def text_teacher_cfg(vocab):
    return dict(type='BERT', vocab_file=vocab,
                backbone=dict(type='BertEncoder', embed_dim=16, depth=1,
                              num_heads=2, max_position_embeddings=24))


def save_model(cfg, path):
    torch.manual_seed(1)
    model = MODELS.build(cfg)
    torch.save({'state_dict': model.state_dict()}, str(path))
    return str(path)


def joint_batch(corpus, n_image=6, n_text=4, seed=0):
    root, vocab, _ = corpus
    ds = JointDataset(
        image=dict(type='PipelineDataset',
                   data_source=dict(type='Digits', split='train',
                                    img_size=16),
                   pipeline=[dict(type='PackInputs')]),
        text=dict(type='PipelineDataset',
                  data_source=dict(type='LineCorpus',
                                   files=[str(root / 'corpus.txt')],
                                   skip_headings=False),
                  pipeline=[dict(type='TokenizeText', vocab_file=vocab,
                                 max_length=24),
                            dict(type='PackTextInputs')]))
    sampler = JointSampler(ds, n_image, n_text, seed=seed)
    items = [ds[i] for i in list(sampler)[:n_image + n_text]]
    return joint_collate(items)


def losses_of(model, batch, seed=0):
    torch.manual_seed(seed)
    data = model.data_preprocessor(batch, True)
    return model(**data, mode='loss')


# ----------------------------------------------------------- the mask ---
def test_mask_keeps_exactly_the_top_share_by_text_gradient():
    g = torch.Generator().manual_seed(0)
    scores = {'a': torch.rand(7, 5, generator=g),
              'b': torch.rand(13, generator=g)}
    n = 7 * 5 + 13
    for scope in ('global', 'tensor'):
        masks = topk_mask(scores, 0.3, scope=scope)
        if scope == 'global':
            assert sum(int(m.sum()) for m in masks.values()) == round(0.7 * n)
            kept = torch.cat([s[m] for s, m in zip(scores.values(),
                                                   masks.values())])
            dropped = torch.cat([s[~m] for s, m in zip(scores.values(),
                                                       masks.values())])
            assert kept.min() > dropped.max()
        else:
            for name, s in scores.items():
                m = masks[name]
                assert int(m.sum()) == round(0.7 * s.numel())
                assert s[m].min() > s[~m].max()
    # IMP: a later, sparser mask only removes entries (fresh scores)
    first = topk_mask(scores, 0.3)
    fresh = {k: torch.rand(v.shape, generator=g) for k, v in scores.items()}
    second = topk_mask(fresh, 0.5, keep=first)
    assert sum(int(m.sum()) for m in second.values()) == round(0.5 * n)
    assert all(bool((second[k] <= first[k]).all()) for k in scores)


def test_update_is_text_gradient_under_ones_image_gradient_under_zeros(
        corpus):
    torch.manual_seed(0)
    model = MODELS.build(student_cfg(corpus[1]))
    wrapper = build_optim_wrapper(model, dict(
        type='GradientMaskOptimWrapper', optimizer=dict(type='SGD', lr=0.1),
        start_iter=0, interval=1, delta=0.5, beta=0.5))
    losses = losses_of(model, joint_batch(corpus))
    named, grads = wrapper.task_gradients(
        model, dict(text=losses['loss_text'], image=losses['loss_image']))
    shared = [i for i, (n, _) in enumerate(named) if n.startswith(SHARED)]
    assert shared and len(shared) < len(named)
    ref_text = torch.autograd.grad(losses['loss_text'],
                                   [p for _, p in named], retain_graph=True,
                                   allow_unused=True)
    for fill, task in ((True, 'text'), (False, 'image')):
        wrapper.masks = {named[i][0]: torch.full_like(
            named[i][1], fill, dtype=torch.bool) for i in shared}
        out = wrapper.combined(named, grads)
        for i in shared:
            assert torch.equal(out[i], grads[task][i])
        if task == 'text':
            for i in shared:
                assert torch.equal(out[i], ref_text[i])
    # a random mask: masked positions carry exactly the image gradient
    g = torch.Generator().manual_seed(3)
    wrapper.masks = {named[i][0]: torch.rand(named[i][1].shape,
                                             generator=g) < 0.5
                     for i in shared}
    out = wrapper.combined(named, grads)
    for i in shared:
        m = wrapper.masks[named[i][0]]
        assert torch.equal(out[i][~m], grads['image'][i][~m])
        assert torch.equal(out[i][m], grads['text'][i][m])
    # outside the shared encoder each part gets its own task's gradient
    # (the other task does not reach it: no gradient, not a zero tensor)
    heads = 0
    for i, (name, _) in enumerate(named):
        if name.startswith('image_head.'):
            assert torch.equal(out[i], grads['image'][i])
            assert grads['text'][i] is None
            heads += 1
        if name.startswith('text_embed.'):
            assert torch.equal(out[i], grads['text'][i])
            assert grads['image'][i] is None
            heads += 1
    assert heads >= 4
    # the step's in-place combination (into the text gradients) gives the
    # same updates, and with no mask the plain sum of the two tasks
    for masks in (wrapper.masks, None):
        wrapper.masks = masks
        pure = wrapper.combined(named, grads)
        copies = {t: [None if g is None else g.clone() for g in gs]
                  for t, gs in grads.items()}
        fast = wrapper.combined(named, copies, inplace=True)
        for i in range(len(named)):
            assert torch.equal(pure[i], fast[i]), named[i][0]
            if i in shared and masks is not None:
                assert fast[i].data_ptr() == copies['text'][i].data_ptr()
    for i in shared:
        assert torch.equal(pure[i], grads['text'][i] + grads['image'][i])


def test_mask_schedule_state_survives_save_and_resume_bit_for_bit(
        corpus, tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(student_cfg(corpus[1]))
    cfg = dict(type='GradientMaskOptimWrapper',
               optimizer=dict(type='AdamW', lr=1e-3), start_iter=1,
               interval=2, delta=0.2, beta=0.5)
    wrapper = build_optim_wrapper(model, cfg)
    batch = joint_batch(corpus)
    for step in range(4):  # updates at steps 1 and 3
        with wrapper.optim_context(model):
            losses = losses_of(model, batch, seed=step)
        wrapper.update_params(sum(losses.values()))
    assert len(wrapper.history) == 2 and wrapper.history_iters == [1, 3]
    total = sum(int((~m).sum()) for m in wrapper.masks.values())
    size = sum(m.numel() for m in wrapper.masks.values())
    assert total == size - round(0.6 * size)
    torch.save({'optimizer': wrapper.state_dict(),
                'state_dict': model.state_dict()}, tmp_path / 'ckpt.pth')

    saved = torch.load(tmp_path / 'ckpt.pth', weights_only=True)
    model2 = MODELS.build(student_cfg(corpus[1]))
    model2.load_state_dict(saved['state_dict'])
    wrapper2 = build_optim_wrapper(model2, cfg)
    wrapper2.load_state_dict(saved['optimizer'])
    assert wrapper2.masks.keys() == wrapper.masks.keys()
    for name, m in wrapper.masks.items():
        assert torch.equal(wrapper2.masks[name], m)
    assert wrapper2.history == wrapper.history
    # the next update (step 5, sparsity 0.5) comes out the same in both
    for w, m in ((wrapper, model), (wrapper2, model2)):
        for seed in (9, 10):
            with w.optim_context(m):
                losses = losses_of(m, batch, seed=seed)
            w.update_params(sum(losses.values()))
    assert wrapper2.history_iters == [1, 3, 5]
    for name, m in wrapper.masks.items():
        assert torch.equal(wrapper2.masks[name], m)
    for (n, p), (_, q) in zip(model.named_parameters(),
                              model2.named_parameters()):
        assert torch.equal(p, q), n
    blocks = sparsity_by_block(wrapper.masks, SHARED)
    assert list(blocks)[:2] == ['block 0', 'block 1']


@pytest.mark.parametrize('kw, expected', [
    (dict(beta=1.0, delta=0.1), 'optim_wrapper.beta'),
    (dict(beta=-0.1, delta=0.1), 'optim_wrapper.beta'),
    (dict(beta=0.3, delta=0.4), 'optim_wrapper.delta (0.4) must be > 0 and '
     'not larger than optim_wrapper.beta'),
])
def test_bad_mask_schedule_is_named(kw, expected):
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=expected.replace('(', r'\(')
                       .replace(')', r'\)')):
        GradientMaskOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kw)


def test_bf16_follows_what_the_machine_can_run():
    """As AmpOptimWrapper: bf16 autocast is refused, with the reason, on a
    CPU without bf16 matrix units, and taken elsewhere."""
    model = torch.nn.Linear(2, 2)
    kw = dict(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
              dtype='bfloat16')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    problem = precision_problem(torch.bfloat16, device)
    if problem:
        with pytest.raises(ValueError, match='GradientMaskOptimWrapper: '):
            GradientMaskOptimWrapper(**kw)
    else:
        assert GradientMaskOptimWrapper(**kw).cast_dtype == torch.bfloat16


# ------------------------------------------------------ distillation ---
def test_distillation_loss_limits():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 10, generator=g)
    labels = torch.randint(0, 10, (8,), generator=g)
    other = torch.randn(8, 10, generator=g)
    assert torch.equal(distill_loss(logits, labels, other, 1.0, 2.0),
                       F.cross_entropy(logits, labels))
    assert float(distill_loss(logits, labels, logits, 0.0, 3.0)) == 0.0
    mixed = distill_loss(logits, labels, logits, 0.3, 2.0)
    assert torch.allclose(mixed, 0.3 * F.cross_entropy(logits, labels))
    assert float(distill_loss(logits, labels, other, 0.0, 2.0)) > 0


def test_teachers_are_frozen_outside_the_optimizer_and_checkpoint(
        corpus, tmp_path):
    vocab = corpus[1]
    img = save_model(image_teacher_cfg(), tmp_path / 'vit.pth')
    txt = save_model(text_teacher_cfg(vocab), tmp_path / 'bert.pth')
    model = MODELS.build(student_cfg(
        vocab, image_teacher=dict(model=image_teacher_cfg(), checkpoint=img),
        text_teacher=dict(model=text_teacher_cfg(vocab), checkpoint=txt)))
    with pytest.raises(RuntimeError, match='init_weights'):
        losses_of(model, joint_batch(corpus))
    model.init_weights()
    teachers = model.teachers
    before = {m: copy.deepcopy(t.state_dict()) for m, t in teachers.items()}
    saved = torch.load(img, weights_only=True)['state_dict']
    for k, v in teachers['image'].state_dict().items():
        assert torch.equal(v, saved[k])
    ids = {id(p) for t in teachers.values() for p in t.parameters()}
    assert not ids & {id(p) for p in model.parameters()}
    assert not any(k.startswith('teacher') for k in model.state_dict())
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-2)))
    in_opt = {id(p) for g in wrapper.optimizer.param_groups
              for p in g['params']}
    assert not ids & in_opt
    model.train()
    assert all(not t.training for t in teachers.values())
    assert all(not p.requires_grad for t in teachers.values()
               for p in t.parameters())
    log = model.train_step(joint_batch(corpus), wrapper)
    assert {'loss_image', 'loss_text'} <= set(log)
    for m, t in teachers.items():
        for k, v in t.state_dict().items():
            assert torch.equal(v, before[m][k])
            p = dict(t.named_parameters()).get(k)
            assert p is None or p.grad is None
    model.to(torch.float64)  # teachers move with the student
    assert all(p.dtype == torch.float64 for t in teachers.values()
               for p in t.parameters())


def test_teacher_of_wrong_modality_or_width_is_named(corpus, tmp_path):
    vocab = corpus[1]
    txt = save_model(text_teacher_cfg(vocab), tmp_path / 'bert.pth')
    img = save_model(image_teacher_cfg(16), tmp_path / 'vit16.pth')
    wrong = MODELS.build(student_cfg(vocab, image_teacher=dict(
        model=image_teacher_cfg(), checkpoint=txt)))
    with pytest.raises(ValueError, match=r'model.image_teacher.checkpoint '
                       r'.*bert.pth holds a model of text'):
        wrong.init_weights()
    wide = MODELS.build(student_cfg(vocab, image_teacher=dict(
        model=image_teacher_cfg(24), checkpoint=img)))
    with pytest.raises(CheckpointMismatchError, match=r'vit16.pth.*'
                       r'model.image_teacher.model does not match'):
        wide.init_weights()


def test_bad_joint_input_is_named(corpus):
    vocab = corpus[1]
    model = MODELS.build(student_cfg(vocab))
    batch = joint_batch(corpus)
    batch['inputs']['text'] = batch['inputs']['text'].clone()
    batch['inputs']['text'][0, 1] = model.text_embed.vocab_size + 5
    with pytest.raises(ValueError, match='model.text_embed.vocab_size'):
        losses_of(model, batch)
    with pytest.raises(ValueError, match='both images and text'):
        data = model.data_preprocessor(joint_batch(corpus), True)
        model(dict(image=data['inputs']['image']), data['data_samples'],
              mode='loss')
    with pytest.raises(ValueError, match=r'train_dataloader.dataset.text'):
        JointDataset(image=dict(type='PipelineDataset', data_source=dict(
            type='Digits', split='train', img_size=16)))
    ds_batch = joint_batch(corpus, 3, 2)
    assert ds_batch['inputs']['image'].shape[0] == 3
    root = corpus[0]
    ds = JointDataset(
        image=dict(type='PipelineDataset', data_source=dict(
            type='Digits', split='train', img_size=16),
            pipeline=[dict(type='PackInputs')]),
        text=dict(type='PipelineDataset', data_source=dict(
            type='LineCorpus', files=[str(root / 'corpus.txt')],
            skip_headings=False), pipeline=[
                dict(type='TokenizeText', vocab_file=vocab, max_length=24),
                dict(type='PackTextInputs')]))
    order = list(JointSampler(ds, 3, 2, seed=0))
    with pytest.raises(ValueError, match='train_dataloader.batch_size to 5'):
        joint_collate([ds[i] for i in order[:4]])


# ------------------------------------------------------------ data ---
def test_joint_sampler_disjoint_per_rank_and_resumable(corpus):
    root, vocab, _ = corpus
    ds = JointDataset(
        image=dict(type='PipelineDataset', data_source=dict(
            type='Digits', split='val', img_size=16)),
        text=dict(type='PipelineDataset', data_source=dict(
            type='LineCorpus', files=[str(root / 'corpus.txt')],
            skip_headings=False)))
    n_img, n_txt = len(ds.datasets['image']), len(ds.datasets['text'])
    ranks = []
    for rank in range(2):
        s = JointSampler(ds, 8, 4, seed=5)
        s.setup(rank, 2)
        s.set_epoch(1)
        ranks.append(list(s))
    assert len(ranks[0]) == len(ranks[1])
    images = [{i for m, i, *_ in r if m == 'image'} for r in ranks]
    assert not images[0] & images[1]
    # a step is 8 images then 4 texts
    assert [m for m, *_ in ranks[0][:12]] == ['image'] * 8 + ['text'] * 4
    # the whole epoch is a function of (seed, epoch): a fresh sampler at
    # epoch 1 replays it exactly (what a resumed run relies on)
    again = JointSampler(ds, 8, 4, seed=5)
    again.setup(0, 2)
    again.set_epoch(1)
    assert list(again) == ranks[0]
    # the text stream runs on across epochs and covers each rank's share
    s = JointSampler(ds, 8, 4, seed=5)
    s.setup(0, 2)
    texts = []
    for epoch in range(3):
        s.set_epoch(epoch)
        texts += [(p, i) for m, i, p, *_ in s if m == 'text']
    first_pass = [i for p, i in texts if p == 0]
    assert len(first_pass) == -(-n_txt // 2) and \
        len(set(first_pass)) == len(first_pass)
    assert n_img > 100


# ------------------------------------------------------- conversion ---
def test_student_converts_to_vision_and_text_encoders(corpus, tmp_path):
    vocab = corpus[1]
    torch.manual_seed(0)
    student = MODELS.build(student_cfg(vocab))
    path = str(tmp_path / 'student.pth')
    torch.save({'state_dict': student.state_dict()}, path)
    vit = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='tiny', img_size=16,
                      patch_size=4, embed_dim=32, depth=2, num_heads=2,
                      pos_embed='learned', global_pool='token',
                      init_cfg=dict(type='Pretrained', checkpoint=path)),
        head=dict(type='LinearClsHead', num_classes=10)))
    vit.init_weights()
    text = MODELS.build(dict(
        type='TextClassifier', vocab_file=vocab,
        backbone=dict(type='BertEncoder', embed_dim=32, depth=2,
                      num_heads=2, max_position_embeddings=24,
                      post_norm=False, layer_norm_eps=1e-6,
                      hidden_dropout=0.0, attn_dropout=0.0,
                      init_cfg=dict(type='Pretrained', checkpoint=path)),
        head=dict(type='LinearClsHead', num_classes=2)))
    text.init_weights()
    student.eval()
    batch = student.data_preprocessor(joint_batch(corpus))
    imgs, ids = batch['inputs']['image'], batch['inputs']['text']
    am = batch['data_samples']['text']['attention_mask']
    with torch.no_grad():
        assert torch.allclose(vit.backbone(imgs),
                              student.forward_image(imgs)[:, 0], atol=1e-6)
        text.eval()
        assert torch.allclose(text.backbone(ids, am),
                              student.forward_text(ids, am), atol=1e-5)


def downstream_models(ckpt, vocab, size):
    """The two finetune configs as shipped, given only what a user passes
    with --cfg-options: the checkpoint (and the text side's vocabulary)."""
    image = Config.fromfile(IMAGE_FINETUNE)
    assert 'prefix' not in image.model.backbone.init_cfg
    image.merge_from_dict({'model.backbone.init_cfg.checkpoint': ckpt})
    text = Config.fromfile(TEXT_FINETUNE)
    assert 'prefix' not in text.model.backbone.init_cfg
    text.merge_from_dict({'model.backbone.init_cfg.checkpoint': ckpt,
                          'model.vocab_file': vocab,
                          'model.backbone.vocab_size': size})
    return MODELS.build(image.model), MODELS.build(text.model)


def test_student_of_the_shipped_config_loads_into_both_finetune_configs(
        corpus, tmp_path):
    """The pretraining config's student, saved as the runner saves it,
    goes strictly into the image and the text finetune configs with no
    prefix or other hand-made option, and gives the student's features;
    a checkpoint missing one shared tensor is refused by both."""
    root, vocab, size = corpus
    cfg = Config.fromfile(STUDENT)
    cfg.model.pop('image_teacher')
    cfg.model.pop('text_teacher')
    cfg.model.vocab_file = vocab
    cfg.model.text_embed.vocab_size = size
    torch.manual_seed(0)
    student = MODELS.build(cfg.model)
    student.init_weights()
    state = student.state_dict()
    ckpt = str(tmp_path / 'iter_2000.pth')
    torch.save({'meta': {'iter': 2000}, 'state_dict': state}, ckpt)
    image, text = downstream_models(ckpt, vocab, size)
    image.init_weights()
    text.init_weights()
    # every tensor of each downstream encoder is the student's
    for key, value in image.backbone.state_dict().items():
        assert torch.equal(value, state['backbone.' + key]), key
    for key, value in text.backbone.state_dict().items():
        src = ('text_embed.' + key if key.split('.')[0] in (
            'word_embed', 'pos_embed', 'type_embed') else 'backbone.' + key)
        assert torch.equal(value, state[src]), key
    student.eval()
    image.eval()
    text.eval()
    g = torch.Generator().manual_seed(0)
    imgs = torch.randn(3, 3, 32, 32, generator=g)
    ids = torch.randint(5, size, (2, 20), generator=g)
    am = torch.ones_like(ids)
    am[1, 15:] = 0
    with torch.no_grad():
        assert torch.allclose(image.backbone(imgs),
                              student.forward_image(imgs)[:, 0], atol=1e-5)
        ours = text.backbone(ids, am)
        theirs = student.forward_text(ids, am)
        assert torch.allclose(ours[am.bool()], theirs[am.bool()], atol=1e-5)
    # strict: one shared tensor missing fails both loads, naming it
    broken = {k: v for k, v in state.items()
              if k != 'backbone.blocks.5.mlp.fc2.weight'}
    bad = str(tmp_path / 'broken.pth')
    torch.save({'state_dict': broken}, bad)
    for model in downstream_models(bad, vocab, size):
        with pytest.raises(CheckpointMismatchError,
                           match=r'blocks\.5\.mlp\.fc2\.weight'):
            model.init_weights()


def test_convert_tool_takes_the_students_vision_encoder(corpus, tmp_path):
    """tools/convert_checkpoint.py turns a joint student into a complete
    timm ViT (text tokenizer and heads dropped) with no --prefix."""
    torch.manual_seed(0)
    student = MODELS.build(student_cfg(corpus[1]))
    src = tmp_path / 'student.pth'
    torch.save({'state_dict': student.state_dict()}, src)
    dst = tmp_path / 'vit.pth'
    proc = subprocess.run(
        [PYTHON, osp.join(REPO, 'tools', 'convert_checkpoint.py'), str(src),
         str(dst)], cwd=REPO, env=env(), capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "the joint model's text tokenizer" in proc.stdout
    assert 'a task head of the joint model' in proc.stdout
    out = torch.load(dst, weights_only=True)
    vit = {k[len('backbone.'):]: v for k, v in student.state_dict().items()
           if k.startswith('backbone.')}
    assert out.keys() == vit.keys()
    assert all(torch.equal(out[k], vit[k]) for k in vit)


# ------------------------------------------------------------ runs ---
TINY_RUN = '''
_base_ = [{base!r}]
vocab_file = {vocab!r}
tiny_text = dict(type='LineCorpus', files=[{corpus!r}], skip_headings=False,
                 pack_tokens=24, vocab_file=vocab_file)
model = dict(
    vocab_file=vocab_file,
    alpha={alpha},
    backbone=dict(img_size=16, embed_dim=32, depth=2, num_heads=2),
    text_embed=dict(vocab_size={size}, max_position_embeddings=24),
    image_teacher=dict(_delete_=True, checkpoint={img!r},
                       model={img_model!r}),
    text_teacher=dict(_delete_=True, checkpoint={txt!r},
                      model={txt_model!r}))
train_dataloader = dict(
    batch_size=32,
    sampler=dict(image_per_step=16, text_per_step=16),
    dataset=dict(
        image=dict(data_source=dict(img_size=16),
                   pipeline=[dict(type='PackInputs')]),
        text=dict(data_source=dict(_delete_=True, **tiny_text),
                  pipeline=[dict(type='TokenizeText', vocab_file=vocab_file,
                                 max_length=24),
                            dict(type='PackTextInputs')])))
val_dataloader = dict(dataset=dict(data_source=dict(img_size=16)))
optim_wrapper = dict(optimizer=dict(lr=3.2e-2), start_iter=4, interval=4,
                     delta=0.25, beta=0.5)
randomness = dict(seed=0, deterministic=True)
warmup_iters = 2
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={ckpt}, max_keep_ckpts=-1))
log_processor = dict(window_size=1)
'''


def tiny_run_config(corpus, tmp_path, iters, ckpt, alpha=0.5):
    root, vocab, size = corpus
    img = save_model(image_teacher_cfg(), tmp_path / 'vit.pth')
    txt = save_model(text_teacher_cfg(vocab), tmp_path / 'bert.pth')
    cfg = tmp_path / 'joint.py'
    cfg.write_text(TINY_RUN.format(
        base=STUDENT, vocab=vocab, corpus=str(root / 'corpus.txt'),
        size=size, img=img, txt=txt, img_model=image_teacher_cfg(),
        txt_model=text_teacher_cfg(vocab), iters=iters, ckpt=ckpt,
        alpha=alpha))
    return cfg


@pytest.mark.slow
def test_tiny_joint_run_both_losses_fall(corpus, tmp_path):
    # a random image teacher pulls towards uniform: weigh labels more
    cfg = tiny_run_config(corpus, tmp_path, iters=60, ckpt=60, alpha=0.9)
    proc = run_train(cfg, tmp_path / 'run', timeout=400)
    rows = [r for _, r in sorted(logged_scalars(tmp_path / 'run').items())
            if 'loss_image' in r]
    assert len(rows) == 60
    for key, drop in (('loss_image', 0.05), ('loss_text', 0.3)):
        values = [r[key] for r in rows]
        assert sum(values[-10:]) / 10 < sum(values[:10]) / 10 - drop, \
            (key, values)
    log = proc.stdout + proc.stderr
    assert 'gradient mask update 2/2 at step 8' in log
    ckpt = tmp_path / 'run' / 'iter_60.pth'
    state = torch.load(ckpt, weights_only=True)
    mask = state['optimizer']['gradient_mask']
    assert mask['history_iters'].tolist() == [4, 8]
    assert not any(k.startswith('teacher') for k in state['state_dict'])
    png = tmp_path / 'mask.png'
    subprocess.run([PYTHON, osp.join(REPO, 'tools', 'analysis',
                                     'mask_sparsity.py'), str(ckpt),
                    '--out', str(png)], cwd=REPO, env=env(), check=True,
                   capture_output=True, timeout=120)
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


@pytest.mark.slow
def test_resumed_joint_run_matches_bit_for_bit(corpus, tmp_path):
    cfg = tiny_run_config(corpus, tmp_path, iters=12, ckpt=6)
    run_train(cfg, tmp_path / 'full', timeout=400)
    run_train(cfg, tmp_path / 'resumed', '--resume',
              str(tmp_path / 'full' / 'iter_6.pth'), timeout=400)
    a = torch.load(tmp_path / 'full' / 'iter_12.pth', weights_only=True)
    b = torch.load(tmp_path / 'resumed' / 'iter_12.pth', weights_only=True)
    ma = a['optimizer']['gradient_mask']['masks']
    mb = b['optimizer']['gradient_mask']['masks']
    assert ma.keys() == mb.keys() and len(ma) > 0
    assert all(torch.equal(ma[k], mb[k]) for k in ma)
    for k, v in a['state_dict'].items():
        assert torch.equal(v, b['state_dict'][k]), k


@pytest.mark.slow
def test_torchrun_two_processes_joint_run(corpus, tmp_path):
    cfg = tiny_run_config(corpus, tmp_path, iters=9, ckpt=9)
    run_torchrun(cfg, tmp_path / 'ddp', nproc=2, timeout=600)
    rows = [r for r in logged_scalars(tmp_path / 'ddp').values()
            if 'loss_image' in r]
    assert len(rows) == 9 and all(0 < r['loss_text'] < 20 for r in rows)
    state = torch.load(tmp_path / 'ddp' / 'iter_9.pth', weights_only=True)
    assert state['optimizer']['gradient_mask']['history_iters'].tolist() \
        == [4, 8]


def test_label_free_variant_trains_mae_and_mlm(corpus):
    torch.manual_seed(0)
    cfg = student_cfg(corpus[1], neck=dict(
        type='MAEDecoder', decoder_embed_dim=16, decoder_depth=1,
        decoder_num_heads=2), head=dict(type='MAEPretrainHead'))
    cfg.pop('image_head')
    cfg['type'] = 'ViTBERTMAE'
    model = MODELS.build(cfg)
    wrapper = build_optim_wrapper(model, dict(
        type='GradientMaskOptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3), start_iter=0, interval=1,
        delta=0.5, beta=0.5))
    log = model.train_step(joint_batch(corpus), wrapper)
    assert torch.isfinite(log['loss_image']) and \
        torch.isfinite(log['loss_text'])
    # the decoder is image-only: not shared, so not masked
    assert wrapper.masks and not any(k.startswith('neck.')
                                     for k in wrapper.masks)
    with pytest.raises(ValueError, match='no image teacher'):
        MODELS.build(dict(cfg, image_teacher=dict(model={}, checkpoint='x')))
