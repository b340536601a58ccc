"""The search space: hyperparameter definitions and the `HyperParameters` container.

Every hyperparameter maps to and from the unit interval (`to_unit` / `from_unit`, public as
KerasTuner's `value_to_prob` / `prob_to_value`), so each oracle works on one numeric form: a
point in the unit hypercube. Definitions round-trip through plain JSON with `get_config` /
`from_config`, and `serialize` / `deserialize`.
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
from tunelab.hyperparameters.serialization import deserialize, serialize

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
    "deserialize",
    "hyperparameter_from_config",
    "serialize",
    "_CODE",
    "_OVERRIDE",
    "_STORED",
]
