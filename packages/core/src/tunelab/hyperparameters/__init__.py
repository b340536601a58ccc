"""The search space: hyperparameter definitions and the `HyperParameters` container.

Every hyperparameter maps to and from the unit interval (`to_unit` / `from_unit`), so each
oracle works on one numeric form: a point in the unit hypercube. Definitions round-trip
through plain JSON with `get_config` / `from_config`.
"""

from tunelab.hyperparameters.container import (
    _CODE,
    _OVERRIDE,
    _STORED,
    HyperParameters,
    SearchSpace,
    hyperparameter_from_config,
)
from tunelab.hyperparameters.definitions import Boolean, Choice, Fixed, HyperParameter, Parent
from tunelab.hyperparameters.numerical import Float, Int

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
    "Parent",
    "SearchSpace",
    "hyperparameter_from_config",
    "_CODE",
    "_OVERRIDE",
    "_STORED",
]
