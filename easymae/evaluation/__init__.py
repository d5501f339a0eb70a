"""Metrics (accuracy, zero-shot) register here."""
from .accuracy import Accuracy

__all__ = ['Accuracy']
