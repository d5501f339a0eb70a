"""Predictions from a trained model: ``inputs`` turns files, folders and
arrays into the model's input; ``predictor`` loads the model from a
checkpoint and gives top-k classes, zero-shot classes or features."""
from easymae.resources import ConfigNameError, find_config
from .inputs import list_images, parse_classes
from .predictor import (
    Predictor,
    inference,
    load_predictor,
    model_from_checkpoint,
)

__all__ = ['ConfigNameError', 'Predictor', 'find_config', 'inference',
           'list_images', 'load_predictor', 'model_from_checkpoint',
           'parse_classes']
