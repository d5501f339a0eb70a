"""The WordPiece vocabulary the ViT-BERT grid's text configs read,
built once from the shared WikiText-2 with the command those configs give.
"""
import os
import os.path as osp
import subprocess
import sys

from config_paths import VOCAB

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def ensure_vocab():
    """The ViT-BERT grid's WordPiece vocabulary (every text config reads
    it), built from the shared WikiText-2 once, as its configs say."""
    if osp.isfile(osp.join(REPO, VOCAB)):
        return
    text = os.environ.get('EASYMAE_SHARED_DATA',
                          osp.join(osp.dirname(REPO), 'shared', 'data'))
    corpora = [osp.join(text, 'text', 'wikitext2', f'{split}.txt')
               for split in ('valid', 'test')]
    missing = [c for c in corpora if not osp.isfile(c)]
    if missing:
        raise SystemExit(f'the vit-bert grid needs WikiText-2: {missing[0]} '
                         'is missing (set EASYMAE_SHARED_DATA)')
    subprocess.run([sys.executable, 'tools/build_vocab.py', *corpora,
                    '--vocab-size', '8000', '--unk-marker', '<unk>',
                    '--out', VOCAB], cwd=REPO, check=True)
