"""One step of an experiment grid (one ``tools/train.py`` or
``tools/knn_eval.py`` run), and how a seed names and configures it."""


class Step:
    """One training run. ``init_from`` names the pretrain step whose final
    checkpoint initialises this run's backbone; ``init_epoch`` takes that
    step's epoch-N checkpoint instead, which the scheduler copies to
    ``<work>/snapshots/<step>_epoch_N.pth`` as soon as it is written (before
    checkpoint rotation removes it), so the run starts while its pretrain
    goes on."""

    def __init__(self, name, kind, config, opts=(), init_from=None,
                 group='', label='', meta=None, init_epoch=None,
                 captions=False, init_key='model.backbone.init_cfg',
                 data='cifar10', prefix=None, also_from=()):
        # knn: tools/knn_eval.py on init_from's checkpoint (``prefix`` picks
        # the encoder in it), not a training run
        assert kind in ('pretrain', 'finetune', 'knn')
        # 'cifar10': the dev archive's folders are filled in; 'own': the
        # config's data as it is (e.g. the embedded digits)
        self.data, self.prefix = data, prefix
        # image-text pretraining: the images sit one level deeper (a
        # ClassCaptions source wraps the ImageFolder) and it is evaluated
        # (zero-shot) on the val split
        self.captions = captions
        # which part the init_from checkpoint initialises
        self.init_key = init_key
        # more (key, step) pairs read the same way: e.g. a distilling
        # student's two teachers, each another step's final checkpoint
        self.also_from = [tuple(pair) for pair in also_from]
        self.name, self.kind, self.config = name, kind, config
        self.opts, self.init_from = list(opts), init_from
        self.init_epoch = init_epoch
        self.group, self.label = group, label
        # what the plots group by, e.g. {'mask_ratio': 0.5} on the finetunes
        # whose pretraining differs from the main one only in that
        self.meta = dict(meta or {})


def seeded(seed):
    """Name suffix and options of one seed: seed 0 keeps the plain name
    (the rows recorded first), others get ``_seed<N>``."""
    return ('' if seed == 0 else f'_seed{seed}'), [f'randomness.seed={seed}']
