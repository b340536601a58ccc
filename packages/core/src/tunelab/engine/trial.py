"""KerasTuner's `keras_tuner.engine.trial`."""

from tunelab.trial import Trial, TrialStatus

__all__ = ["Trial", "TrialStatus"]
