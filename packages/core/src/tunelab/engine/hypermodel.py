"""KerasTuner's `keras_tuner.engine.hypermodel`."""

from tunelab.hypermodel import HyperModel

__all__ = ["HyperModel"]
