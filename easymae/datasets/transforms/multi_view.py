"""Several augmented views of one image, for contrastive and
self-distillation methods (MoCo v3's two views, DINO's multi-crop).

``MultiView`` runs each of its pipelines on its own copy of the sample and
collects the views in ``results['img']`` as a list, in order; ``PackInputs``
then packs a list of (3, h, w) tensors, the default collate makes it a list
of (N, 3, h, w) batches (one per view, sizes may differ between views), and
``MultiViewDataPreprocessor`` normalises each on the device.
"""
import copy
from typing import List, Sequence

from easymae.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiView:
    """Args:
        pipelines: one transform list per kind of view.
        num_views: how many views each pipeline makes (default one each),
            e.g. ``[2, 8]`` for DINO's 2 global + 8 local crops with two
            pipelines; MoCo v3's asymmetric views are two pipelines with
            ``[1, 1]``.

    Only ``img`` differs between views; other keys (labels, index) are the
    input's.
    """

    def __init__(self, pipelines: Sequence[Sequence], num_views=None):
        if not pipelines or isinstance(pipelines[0], dict):
            raise ValueError('MultiView: pipelines must be a list of '
                             'transform lists, one per kind of view')
        if num_views is None:
            num_views = [1] * len(pipelines)
        if len(num_views) != len(pipelines) or \
                any(int(n) < 1 for n in num_views):
            raise ValueError(f'MultiView: num_views {list(num_views)} must '
                             f'give a count >= 1 for each of the '
                             f'{len(pipelines)} pipelines')
        self.pipelines = [[TRANSFORMS.build(t) if isinstance(t, dict)
                           else t for t in p] for p in pipelines]
        self.num_views = [int(n) for n in num_views]

    def __call__(self, results: dict) -> dict:
        views: List = []
        for steps, n in zip(self.pipelines, self.num_views):
            for _ in range(n):
                view = copy.copy(results)
                for step in steps:
                    view = step(view)
                views.append(view['img'])
        results['img'] = views
        return results

    def __repr__(self):
        return (f'MultiView(num_views={self.num_views}, '
                f'pipelines={self.pipelines})')
