"""`serialize` / `deserialize`: hyperparameters, conditions and whole spaces as plain JSON.

KerasTuner code calls them as `kt.engine.hyperparameters.serialize` / `deserialize`; the
format is KerasTuner's `{"class_name": ..., "config": ...}`.
"""

from __future__ import annotations

from typing import Any

from tunelab.hyperparameters.container import (
    _CLASSES,
    HyperParameters,
    hyperparameter_from_config,
)
from tunelab.hyperparameters.definitions import Boolean, HyperParameter, Parent  # noqa: F401 (Boolean: the doctest)

__all__ = ["deserialize", "serialize"]


def serialize(obj: HyperParameter | HyperParameters | Parent) -> dict[str, Any]:
    """`{"class_name": ..., "config": ...}` for a hyperparameter, a condition or a whole
    `HyperParameters` (KerasTuner's `kt.engine.hyperparameters.serialize`).

    Examples
    --------
    >>> serialize(Boolean("shuffle"))
    {'class_name': 'Boolean', 'config': {'name': 'shuffle', 'default': False, 'conditions': []}}
    """
    if isinstance(obj, HyperParameters):
        return {"class_name": "HyperParameters", "config": obj.get_config()}
    if isinstance(obj, Parent):
        return obj.get_config()
    if isinstance(obj, HyperParameter):
        return {"class_name": obj.kind, "config": obj.get_config()}
    raise TypeError(
        f"serialize: {obj!r} of type {type(obj).__name__}; expected a HyperParameter, "
        "a HyperParameters or a Parent condition"
    )


def deserialize(config: dict[str, Any]) -> HyperParameter | HyperParameters | Parent:
    """Rebuild what `serialize` wrote (plain JSON; no code is run).

    Examples
    --------
    >>> deserialize({"class_name": "Fixed", "config": {"name": "units", "value": 8}})
    Fixed(name='units', value=8)
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    if name == "HyperParameters":
        return HyperParameters.from_config(config["config"])
    if name == "Parent":
        return Parent.from_config(config)
    if name not in _CLASSES:
        raise ValueError(
            f"deserialize: {config!r} is not a serialized hyperparameter; expected "
            f"class_name in {sorted([*_CLASSES, 'HyperParameters', 'Parent'])}"
        )
    return hyperparameter_from_config(config)
