"""BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding (Devlin et al., 2019), the masked language model.

Read top to bottom like the paper's section 3.1: choose 15% of the tokens
of each sequence; of those, 80% become [MASK], 10% a random token and 10%
stay as they are; the encoder sees the corrupted sequence and the loss is
the cross-entropy of the original token at the chosen positions only.

* The count is exact per sequence: ``max(1, round(ratio x n))`` of the
  ``n`` maskable tokens (round half to even, Python's ``round``), as the
  reference ``create_pretraining_data.py`` takes
  ``max(1, int(round(len(tokens) * masked_lm_prob)))``. Maskable means a
  real token: never padding, [CLS], [SEP], [UNK] or [MASK].
* Masks are drawn afresh at every step on the device (RoBERTa's dynamic
  masking), not once when the data is written as in the reference.
* The head's decoder is the word embedding matrix (tied weights).
* Next-sentence prediction is off by default: RoBERTa (Liu et al., 2019)
  found that removing it matches or improves downstream results, and it
  halves the useful length of every sequence. ``nsp=True`` adds BERT's
  pooler + 2-way head on [CLS] for data that carries
  ``next_sentence_label``.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from easymae.registry import MODELS
from ..utils.text_inputs import resolve_vocab, text_masks
from .base import BaseAlgorithm, build_part


def num_to_mask(num_maskable: torch.Tensor, mask_ratio: float
                ) -> torch.Tensor:
    """``max(1, round(ratio x n))`` per sequence (0 when n is 0); float64
    so the rounding is Python's for every n."""
    k = torch.round(num_maskable.double() * mask_ratio).long().clamp(min=1)
    return torch.where(num_maskable > 0, k, torch.zeros_like(k))


def mask_tokens(input_ids: torch.Tensor, maskable: torch.Tensor,
                mask_ratio: float, mask_token_id: int,
                replace_ids: torch.Tensor, mask_token_prob: float = 0.8,
                random_token_prob: float = 0.1,
                generator: Optional[torch.Generator] = None):
    """BERT's corruption of (N, T) ids.

    Returns the corrupted ids and the (N, T) bool mask of the positions to
    predict. Positions are the lowest-noise maskable tokens (an exact count
    per row); each is then replaced by [MASK] with ``mask_token_prob``, by
    a token drawn uniformly from ``replace_ids`` with ``random_token_prob``,
    and kept otherwise.
    """
    N, T = input_ids.shape
    gen_device = generator.device if generator is not None \
        else input_ids.device
    noise = torch.rand(N, T, generator=generator, device=gen_device)
    noise = noise.to(input_ids.device).masked_fill(~maskable, 2.0)
    rank = noise.argsort(dim=1).argsort(dim=1)
    k = num_to_mask(maskable.sum(dim=1), mask_ratio)
    mask = rank < k[:, None]

    u = torch.rand(N, T, generator=generator, device=gen_device).to(
        input_ids.device)
    to_mask_token = mask & (u < mask_token_prob)
    to_random = mask & (u >= mask_token_prob) & \
        (u < mask_token_prob + random_token_prob)
    pick = torch.randint(len(replace_ids), (N, T), generator=generator,
                         device=gen_device).to(input_ids.device)
    corrupted = torch.where(to_mask_token,
                            torch.full_like(input_ids, mask_token_id),
                            input_ids)
    corrupted = torch.where(to_random, replace_ids[pick], corrupted)
    return corrupted, mask


@MODELS.register_module()
class BERT(BaseAlgorithm):
    """Args:
        backbone: a ``BertEncoder`` config; its ``vocab_size`` defaults to
            the vocabulary's.
        head: a ``MaskedLMHead`` config (None: the default head); its
            sizes default to the backbone's.
        vocab_file: the tokenizer file; gives the vocabulary size and the
            special tokens' ids, and a size that differs from
            ``backbone.vocab_size`` is an error.
        mask_ratio: share of maskable tokens predicted (0.15).
        mask_token_prob, random_token_prob: the 80/10/10 split.
        nsp: add next-sentence prediction (off; see above).
        mask_token_id, special_token_ids: without a ``vocab_file``
            (defaults: build_vocab.py's ids 4 and 0-4).
        eval_seed: evaluation masks each sample with a generator seeded by
            (eval_seed, sample index): the same positions every time, on
            any number of processes.
    """

    def __init__(self, backbone: dict, head: Optional[dict] = None,
                 vocab_file: Optional[str] = None, mask_ratio: float = 0.15,
                 mask_token_prob: float = 0.8,
                 random_token_prob: float = 0.1, nsp: bool = False,
                 mask_token_id: Optional[int] = None,
                 special_token_ids: Optional[Sequence[int]] = None,
                 eval_seed: int = 0, data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'BERT: mask_ratio must be in (0, 1), got '
                             f'{mask_ratio}')
        if min(mask_token_prob, random_token_prob) < 0 or \
                mask_token_prob + random_token_prob > 1:
            raise ValueError('BERT: need mask_token_prob, random_token_prob '
                             '>= 0 with a sum <= 1, got '
                             f'{mask_token_prob}, {random_token_prob}')
        backbone, specials = resolve_vocab(backbone, vocab_file, 'BERT',
                                           mask_token_id, special_token_ids)
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)
        enc = self.backbone
        head = dict(type='MaskedLMHead') if head is None else dict(head)
        head.setdefault('embed_dim', enc.embed_dim)
        head.setdefault('vocab_size', enc.vocab_size)
        self.head = build_part(head)
        self.nsp_head = build_part(dict(type='NextSentenceHead',
                                        embed_dim=enc.embed_dim)) \
            if nsp else None
        self.vocab_file = vocab_file
        self.mask_ratio = mask_ratio
        self.mask_token_prob = mask_token_prob
        self.random_token_prob = random_token_prob
        self.mask_token_id = specials['mask']
        self.eval_seed = eval_seed
        special = torch.tensor(specials['all'], dtype=torch.long)
        replace = torch.ones(enc.vocab_size, dtype=torch.bool)
        replace[special[special < enc.vocab_size]] = False
        # not saved: they follow from the vocabulary
        self.register_buffer('special_ids', special, persistent=False)
        self.register_buffer('replace_ids', replace.nonzero().flatten(),
                             persistent=False)

    # ------------------------------------------------------------ steps
    def maskable(self, input_ids, attention_mask) -> torch.Tensor:
        return attention_mask.bool() & \
            ~torch.isin(input_ids, self.special_ids)

    def random_masking(self, input_ids, attention_mask, generator=None):
        return mask_tokens(input_ids,
                           self.maskable(input_ids, attention_mask),
                           self.mask_ratio, self.mask_token_id,
                           self.replace_ids, self.mask_token_prob,
                           self.random_token_prob, generator)

    def forward_encoder(self, input_ids, attention_mask, token_type_ids):
        return self.backbone(input_ids, attention_mask, token_type_ids)

    def forward_head(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of the given (M, D) hidden states, over the vocabulary."""
        return self.head(hidden, self.backbone.word_embed.weight)

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> dict:
        attention_mask, token_type_ids = text_masks(inputs, data_samples)
        corrupted, mask = self.random_masking(inputs, attention_mask)
        hidden = self.forward_encoder(corrupted, attention_mask,
                                      token_type_ids)
        # the head runs on the chosen positions only, as the reference's
        # gather_indexes: ~15% of the vocabulary-sized matmul
        logits = self.forward_head(hidden[mask])
        losses = dict(loss_mlm=F.cross_entropy(logits.float(),
                                               inputs[mask]))
        if self.nsp_head is not None:
            labels = data_samples.get('next_sentence_label') \
                if data_samples else None
            if labels is None:
                raise ValueError('BERT(nsp=True) needs next_sentence_label '
                                 'in data_samples (LineCorpus(nsp=True) and '
                                 "PackTextInputs meta_keys)")
            nsp_logits = self.nsp_head(hidden[:, 0]).float()
            losses['loss_nsp'] = F.cross_entropy(nsp_logits,
                                                 labels.long().flatten())
        return losses

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[dict] = None) -> List[dict]:
        """Per sequence: masked tokens predicted right, their count and
        their summed negative log-likelihood (``MaskedLMMetric`` reads
        these), under a mask fixed by (eval_seed, sample index)."""
        attention_mask, token_type_ids = text_masks(inputs, data_samples)
        idx = data_samples.get('sample_idx') if data_samples else None
        rows = []
        for i in range(inputs.shape[0]):
            gen = torch.Generator(device='cpu')
            seed = int(idx[i]) if idx is not None else i
            gen.manual_seed(self.eval_seed * 1_000_003 + seed)
            rows.append(self.random_masking(inputs[i:i + 1],
                                            attention_mask[i:i + 1], gen))
        corrupted = torch.cat([r[0] for r in rows])
        mask = torch.cat([r[1] for r in rows])
        hidden = self.forward_encoder(corrupted, attention_mask,
                                      token_type_ids)
        logits = self.forward_head(hidden[mask]).float()
        target = inputs[mask]
        nll = F.cross_entropy(logits, target, reduction='none')
        correct = (logits.argmax(-1) == target).float()
        row = mask.nonzero()[:, 0]
        results = []
        for i in range(inputs.shape[0]):
            sel = row == i
            results.append(dict(mlm_count=int(sel.sum()),
                                mlm_correct=float(correct[sel].sum()),
                                mlm_nll=float(nll[sel].sum())))
        return results

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            attention_mask, token_type_ids = text_masks(inputs, data_samples)
            return self.backbone(inputs, attention_mask, token_type_ids)
        return super().forward(inputs, data_samples, mode)
