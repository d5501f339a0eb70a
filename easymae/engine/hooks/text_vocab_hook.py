"""Keep a text model's vocabulary beside its checkpoints.

Token ids mean nothing without the vocabulary that made them. Before the
run this hook checks that the model's word embedding has one row per
token of the vocabulary file, copies the file into the work dir (so a
work dir holds everything a finetune needs), and every checkpoint's meta
records the copy's name, size and sha256.
"""
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from easymae.fileio.atomic import atomic_write_bytes
from easymae.registry import HOOKS
from easymae.text.wordpiece import file_sha256, get_wordpiece


@HOOKS.register_module()
class TextVocabHook(Hook):
    """Args:
        vocab_file: the tokenizer file; None takes the model's
            ``vocab_file``.
        filename: name of the copy in the work dir (the extension follows
            the source's: ``vocab.json`` or ``vocab.txt``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, vocab_file: Optional[str] = None,
                 filename: str = 'vocab'):
        self.vocab_file = vocab_file
        self.filename = filename
        self.record = None

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        vocab_file = self.vocab_file or getattr(model, 'vocab_file', None)
        if vocab_file is None:
            raise ValueError('TextVocabHook: no vocab_file given and the '
                             f'model ({type(model).__name__}) names none')
        tok = get_wordpiece(vocab_file)
        embed = getattr(getattr(model, 'backbone', model), 'word_embed',
                        None)
        if embed is not None and embed.num_embeddings != tok.vocab_size:
            raise ValueError(
                f'TextVocabHook: the vocabulary {vocab_file} has '
                f'{tok.vocab_size} tokens but the model\'s '
                f'backbone.word_embed has {embed.num_embeddings} rows')
        mask_id = getattr(model, 'mask_token_id', None)
        if mask_id is not None and mask_id != tok.mask_id:
            raise ValueError(
                f'TextVocabHook: the vocabulary {vocab_file} has [MASK] = '
                f'{tok.mask_id} but model.mask_token_id is {mask_id}')
        name = self.filename + osp.splitext(vocab_file)[1]
        target = osp.join(runner.work_dir, name)
        if is_main_process() and (not osp.exists(target) or
                                  not osp.samefile(vocab_file, target)):
            with open(vocab_file, 'rb') as f:
                atomic_write_bytes(f.read(), target)
        self.record = dict(file=name, size=tok.vocab_size,
                           sha256=file_sha256(vocab_file))
        runner.logger.info(f'vocabulary {vocab_file} ({tok.vocab_size} '
                           f'tokens) copied to {target}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.record is not None:
            checkpoint.setdefault('meta', {})['vocab'] = dict(self.record)
