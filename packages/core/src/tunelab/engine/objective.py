"""KerasTuner's `keras_tuner.engine.objective` (a public module before KerasTuner 1.4)."""

from tunelab.objective import MultiObjective, Objective, create_objective

__all__ = ["MultiObjective", "Objective", "create_objective"]
