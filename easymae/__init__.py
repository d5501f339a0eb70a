"""easymae: masked-image pretraining of Vision Transformers.

Importing the package registers every component in the ``easymae`` scope.
"""
from .version import __version__  # noqa: F401
from . import datasets, engine, evaluation, models  # noqa: F401,E402
