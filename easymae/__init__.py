"""easymae: masked-image pretraining of Vision Transformers.

Importing the package registers every component in the ``easymae`` scope.
"""
from .version import __version__  # noqa: F401
from . import datasets, engine, evaluation, models  # noqa: F401,E402
from . import hub  # noqa: F401,E402
from .hub.api import extract_features, get_model, list_models  # noqa: F401,E402,E501
from .predict import inference  # noqa: F401,E402
