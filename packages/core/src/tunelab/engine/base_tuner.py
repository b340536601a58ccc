"""KerasTuner's `keras_tuner.engine.base_tuner`: the framework-independent tuner."""

from tunelab.tuner import BaseTuner

__all__ = ["BaseTuner"]
