"""Weighted k-nearest-neighbour classification on frozen features.

DINO's evaluation (Wu et al. 2018's weighted vote, as DINO's
``eval_knn.py``): train and test features are L2-normalised, each test
image takes its k most cosine-similar training images, and each neighbour
votes for its class with weight ``exp(similarity / T)``; the class with the
largest summed weight is the prediction. k = 20 and T = 0.07 by default.

The training features (the bank) live in memory; a bank larger than
``max_bank_bytes`` is refused up front with its size, rather than failing
part way through or swapping.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F

BYTES_PER_FEATURE = 4  # float32


class KNNBankTooLarge(MemoryError):
    """The kNN feature bank would exceed the allowed memory."""


def _size(n: float) -> str:
    if n >= 2 ** 30:
        return f'{n / 2 ** 30:.2f} GiB'
    return f'{n / 2 ** 20:.2f} MiB'


def check_bank_size(num_samples: int, dim: int,
                    max_bank_bytes: Optional[float]) -> int:
    """Bytes of a (num_samples, dim) float32 bank; raises
    ``KNNBankTooLarge`` naming the size when it is over the limit."""
    size = int(num_samples) * int(dim) * BYTES_PER_FEATURE
    if max_bank_bytes is not None and size > max_bank_bytes:
        raise KNNBankTooLarge(
            f'kNN bank of {num_samples} x {dim} float32 features is '
            f'{_size(size)} ({size} bytes), over the limit of '
            f'{_size(max_bank_bytes)}; raise the limit (--max-bank-gb) or '
            'evaluate on a subset of the training images')
    return size


@torch.no_grad()
def knn_scores(train_feats: torch.Tensor, train_labels: torch.Tensor,
               test_feats: torch.Tensor, num_classes: int, k: int = 20,
               temperature: float = 0.07, chunk_size: int = 256,
               max_bank_bytes: Optional[float] = None) -> torch.Tensor:
    """(num_test, num_classes) summed neighbour weights.

    Features need not be normalised (they are L2-normalised here); a test
    image's neighbours are its ``k`` most similar training images.
    """
    if k < 1:
        raise ValueError(f'kNN: k must be >= 1, got {k}')
    if not temperature > 0:
        raise ValueError(f'kNN: temperature must be > 0, got {temperature}')
    if len(train_feats) != len(train_labels):
        raise ValueError(f'kNN: {len(train_feats)} train features but '
                         f'{len(train_labels)} labels')
    check_bank_size(len(train_feats), train_feats.shape[1], max_bank_bytes)
    bank = F.normalize(train_feats.float(), dim=1)
    labels = train_labels.long().to(bank.device)
    k = min(k, len(bank))
    out = []
    for start in range(0, len(test_feats), chunk_size):
        q = F.normalize(test_feats[start:start + chunk_size].float().to(
            bank.device), dim=1)
        sim, idx = (q @ bank.t()).topk(k, dim=1)
        weights = (sim / temperature).exp()
        votes = torch.zeros(len(q), num_classes, device=bank.device)
        votes.scatter_add_(1, labels[idx], weights)
        out.append(votes)
    return torch.cat(out)


def knn_accuracy(train_feats: torch.Tensor, train_labels: torch.Tensor,
                 test_feats: torch.Tensor, test_labels: torch.Tensor,
                 num_classes: Optional[int] = None, k: int = 20,
                 temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5),
                 max_bank_bytes: Optional[float] = None
                 ) -> Dict[str, float]:
    """Top-k accuracies (in %) of the weighted kNN classifier."""
    if num_classes is None:
        num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = knn_scores(train_feats, train_labels, test_feats, num_classes,
                        k, temperature, max_bank_bytes=max_bank_bytes)
    ranked = scores.argsort(dim=1, descending=True)
    truth = test_labels.long().view(-1, 1).to(ranked.device)
    result = {}
    for t in topk:
        if t > num_classes:
            continue
        hit = (ranked[:, :t] == truth).any(dim=1).float().mean()
        result[f'top{t}'] = 100.0 * float(hit)
    return result
