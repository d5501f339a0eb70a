"""easymae: masked-image pretraining of Vision Transformers.

Importing the package registers every component in the ``easymae`` scope.
"""
from . import (  # noqa: F401,E402
    datasets,
    engine,
    evaluation,
    hub,  # noqa: F401,E402
    models,
)
from .hub.api import extract_features, get_model, list_models  # noqa: F401,E402,E501
from .predict import inference  # noqa: F401,E402
from .version import __version__  # noqa: F401
