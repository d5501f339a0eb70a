"""Pick the caption a sample is trained with this step."""
import random

from easymae.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SampleCaption:
    """``results['captions']`` (a list) -> ``results['caption']`` (a str).

    COCO has five captions per image: drawing one per visit means each
    epoch pairs the image with a (likely) different sentence.

    Args:
        mode: 'random' (training) or 'first' (deterministic evaluation).
    """

    def __init__(self, mode: str = 'random'):
        if mode not in ('random', 'first'):
            raise ValueError(f"SampleCaption: mode must be 'random' or "
                             f"'first', got {mode!r}")
        self.mode = mode

    def __call__(self, results: dict) -> dict:
        captions = results.get('captions')
        if isinstance(captions, str):
            captions = [captions]
        if not captions:
            where = results.get('img_path', results.get('sample_idx'))
            raise ValueError(f'SampleCaption: sample {where!r} has no '
                             "'captions'")
        results['caption'] = (random.choice(captions)
                              if self.mode == 'random' else captions[0])
        return results

    def __repr__(self):
        return f'SampleCaption(mode={self.mode!r})'
