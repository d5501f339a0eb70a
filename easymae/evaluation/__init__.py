"""Metrics (accuracy, zero-shot) register here."""
