"""FLIP's data side: CLIP BPE tokenizing, image-text sources, captions."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from flip_utils import shared_data

import easymae  # noqa: F401
from easymae.datasets import PipelineDataset
from easymae.datasets.transforms.tokenize import Tokenize
from easymae.registry import DATA_SOURCES
from easymae.text import decode_tokens, normalize_caption

SOT, EOT = 49406, 49407


def test_tokenizer_round_trips_a_caption():
    caption = 'A  Dog   RUNNING on the beach with a red frisbee'
    tokens = Tokenize()(dict(caption=caption))['text']
    assert tokens.dtype == torch.long and tokens.shape == (77,)
    assert tokens[0] == SOT
    n = int((tokens != 0).sum())
    assert tokens[n - 1] == EOT and (tokens[n:] == 0).all()
    assert decode_tokens(tokens) == normalize_caption(caption)
    assert normalize_caption(caption) == \
        'a dog running on the beach with a red frisbee'
    # punctuation comes back as its own token (spaces around it)
    text = 'Two cats, one hat!'
    back = decode_tokens(Tokenize()(dict(caption=text))['text'])
    assert back.replace(' ', '') == normalize_caption(text).replace(' ', '')


def test_tokenizer_truncates_and_keeps_end_token():
    words = ' '.join(f'word{i}' for i in range(50))
    full = Tokenize(context_length=200)(dict(caption=words))['text']
    cut = Tokenize(context_length=8)(dict(caption=words))['text']
    assert cut.shape == (8,)
    assert cut[0] == SOT and cut[-1] == EOT
    assert torch.equal(cut[:7], full[:7])  # the start of the same caption


def test_tokenizer_length_reduction_keeps_words_of_the_caption():
    words = ' '.join(['alpha', 'beta', 'gamma', 'delta', 'epsilon'] * 6)
    full = Tokenize(context_length=77)(dict(caption=words))['text']
    ids = set(full[1:int((full != 0).sum()) - 1].tolist())
    out = Tokenize(context_length=8, reduction='random')(
        dict(caption=words))['text']
    assert out[0] == SOT and EOT in out.tolist()
    kept = [t for t in out.tolist() if t not in (SOT, EOT, 0)]
    assert len(kept) == 6 and set(kept) <= ids


def test_tokenize_rejects_bad_settings():
    with pytest.raises(ValueError, match='reduction'):
        Tokenize(reduction='syntax-tree')
    with pytest.raises(ValueError, match='context_length'):
        Tokenize(context_length=2)
    with pytest.raises(ValueError, match='SampleCaption'):
        Tokenize()(dict(captions=['a', 'b']))


def _write_images(root, names):
    rng = np.random.RandomState(0)
    for name in names:
        img = rng.randint(0, 256, (24, 20, 3), dtype=np.uint8)
        path = osp.join(root, name)
        assert cv2.imwrite(path, img)


PIPELINE = [
    dict(type='LoadImage'),
    dict(type='Resize', size=(16, 16)),
    dict(type='SampleCaption'),
    dict(type='Tokenize', context_length=16),
    dict(type='PackInputs', meta_keys=('text', )),
]


def _check_through_pipeline(source):
    ds = PipelineDataset(source, PIPELINE)
    out = ds[0]
    assert out['inputs'].shape == (3, 16, 16)
    assert out['inputs'].dtype == torch.uint8
    assert out['data_samples']['text'].shape == (16, )
    return ds


@pytest.mark.parametrize('fmt', ['jsonl', 'tsv', 'csv', 'coco'])
def test_image_text_formats_on_real_files(tmp_path, fmt):
    _write_images(tmp_path, ['a.png', 'b.jpg'])
    caps = {'a.png': ['a red square', 'noise in red'],
            'b.jpg': ['a blue thing']}
    if fmt == 'jsonl':
        ann = tmp_path / 'pairs.jsonl'
        ann.write_text('\n'.join(
            json.dumps(dict(image=k, captions=v if len(v) > 1 else v[0]))
            for k, v in caps.items()) + '\n')
    elif fmt in ('tsv', 'csv'):
        sep = '\t' if fmt == 'tsv' else ','
        ann = tmp_path / f'pairs.{fmt}'
        rows = [f'image{sep}captions'] + [f'{k}{sep}{c}'
                                          for k, v in caps.items() for c in v]
        ann.write_text('\n'.join(rows) + '\n')
    else:
        ann = tmp_path / 'captions.json'
        images = [dict(id=7, file_name='a.png'), dict(id=3, file_name='b.jpg')]
        anns = [dict(id=i, image_id=iid, caption=c) for i, (iid, c) in
                enumerate([(7, 'a red square'), (3, 'a blue thing'),
                           (7, 'noise in red')])]
        ann.write_text(json.dumps(dict(images=images, annotations=anns)))
    src = DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                  ann_file=ann.name))
    assert src.format == fmt
    got = {osp.basename(s['img_path']): s['captions'] for s in src.samples}
    assert got == caps
    ds = _check_through_pipeline(src)
    # one caption of the image is drawn per visit: both come up
    seen = {decode_tokens(ds[0]['data_samples']['text']) for _ in range(40)}
    assert seen == {'a red square', 'noise in red'}


def test_image_text_errors_name_the_fault(tmp_path):
    _write_images(tmp_path, ['a.png'])
    bad_col = tmp_path / 'x.tsv'
    bad_col.write_text('path\ttext\na.png\thello\n')
    with pytest.raises(KeyError, match="no column 'image'"):
        DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                ann_file='x.tsv', caption_key='text'))
    escape = tmp_path / 'e.jsonl'
    escape.write_text(json.dumps(dict(image='../../etc/passwd',
                                      captions='x')) + '\n')
    with pytest.raises(ValueError, match='outside the data root'):
        DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                ann_file='e.jsonl'))
    coco = tmp_path / 'c.json'
    coco.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.png')],
        annotations=[dict(id=5, image_id=2, caption='hi')])))
    with pytest.raises(ValueError, match='image_id 2'):
        DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                ann_file='c.json'))
    empty = tmp_path / 'n.jsonl'
    empty.write_text(json.dumps(dict(image='a.png', captions=['  '])) + '\n')
    with pytest.raises(ValueError, match='no non-empty caption'):
        DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                ann_file='n.jsonl'))
    with pytest.raises(FileNotFoundError, match='missing.jsonl'):
        DATA_SOURCES.build(dict(type='ImageText', data_root=str(tmp_path),
                                ann_file='missing.jsonl'))


def test_image_text_on_coco_captions_mini():
    root = shared_data('coco_captions_mini')
    coco = DATA_SOURCES.build(dict(type='ImageText', data_root=root,
                                   ann_file='captions_train2017.json',
                                   img_prefix='train2017'))
    lines = DATA_SOURCES.build(dict(type='ImageText', data_root=root,
                                    ann_file='pairs_train2017.jsonl'))
    assert len(coco) == len(lines) == 80
    assert sum(len(s['captions']) for s in coco.samples) == 400
    # both layouts describe the same pairs
    by_path = {s['img_path']: sorted(s['captions']) for s in lines.samples}
    assert {s['img_path']: sorted(s['captions'])
            for s in coco.samples} == by_path
    out = _check_through_pipeline(coco)[5]
    assert decode_tokens(out['data_samples']['text'])


def test_class_captions_fill_templates(tmp_path):
    for cls in ('cat', 'dog'):
        (tmp_path / cls).mkdir()
        _write_images(tmp_path / cls, ['0.png'])
    src = DATA_SOURCES.build(dict(
        type='ClassCaptions', templates=['a photo of a {}.', 'my {}'],
        data_source=dict(type='ImageFolder', root=str(tmp_path))))
    assert src.classes == ['cat', 'dog']
    assert src[1]['captions'] == ['a photo of a dog.', 'my dog']
    assert src[1]['gt_label'] == 1
    with pytest.raises(ValueError, match='exactly one'):
        DATA_SOURCES.build(dict(
            type='ClassCaptions', templates=['no slot'],
            data_source=dict(type='ImageFolder', root=str(tmp_path))))
    with pytest.raises(KeyError, match='unknown prompt template set'):
        DATA_SOURCES.build(dict(
            type='ClassCaptions', templates='nope',
            data_source=dict(type='ImageFolder', root=str(tmp_path))))
