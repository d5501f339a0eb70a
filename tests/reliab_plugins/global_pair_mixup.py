"""Test-only: mixup/cutmix whose pairs do not depend on the world size.

timm's ``Mixup`` (the library's ``ClsDataPreprocessor``) mixes image i of the
*local* batch with image N-1-i. On 1 process of 16 images, global position g
is mixed with 15-g; on 2 processes the sampler deals global position g to
rank g % 2, so 15-g always sits on the other rank and the pairs differ. The
mixing weight and the cutmix box come from numpy's generator, which every
rank seeds alike (``randomness.diff_rank_seed=False``), so they already
agree.

This preprocessor only reorders each local batch before the library's own
normalise-and-mix runs, so that timm's mirror pairs become the pairs
(g, g XOR 2) of global positions: both members of such a pair are on the
same rank whether there are 1 or 2 processes. Order within a batch does not
change a mean loss, so the runs stay comparable; mixup itself is the
library's, unchanged.
"""
import torch
from mmengine.dist import get_world_size

from easymae.models.cls_data_preprocessor import ClsDataPreprocessor
from easymae.registry import MODELS


def pair_order(n: int, world_size: int) -> torch.Tensor:
    """An order of ``range(n)`` whose mirror pairs (p, n-1-p) are the local
    positions of global pairs (g, g XOR 2) under an interleaving sampler."""
    if world_size not in (1, 2) or n % 4:
        raise ValueError(f'pair_order supports 1 or 2 processes and local '
                         f'batches divisible by 4, got {world_size}, {n}')
    step = 2 // world_size  # global g XOR 2 is local j XOR step
    firsts = [j for j in range(n) if not j & step]
    seconds = [j ^ step for j in firsts]
    return torch.tensor(firsts + seconds[::-1])


@MODELS.register_module()
class GlobalPairMixupPreprocessor(ClsDataPreprocessor):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs_seen = []  # data-set index pairs mixed, per iteration

    def forward(self, data: dict, training: bool = False) -> dict:
        if training and self.mixup is not None:
            order = pair_order(len(data['inputs']), get_world_size())
            samples = {k: (v[order] if torch.is_tensor(v) else
                           [v[i] for i in order])
                       for k, v in data['data_samples'].items()}
            data = dict(inputs=data['inputs'][order], data_samples=samples)
            ids = samples['sample_idx'].tolist()
            self.pairs_seen.append(sorted(
                sorted((ids[p], ids[-1 - p])) for p in range(len(ids) // 2)))
        return super().forward(data, training)
