"""How a hyperparameter's definition changed, in one line (a resumed search reports it)."""

from __future__ import annotations

from typing import Any

from tunelab.hyperparameters.definitions import HyperParameter

__all__ = ["describe_change"]


def describe_change(old: HyperParameter, new: HyperParameter) -> str:
    """``~ name (Kind): key old -> new, ...`` for the settings that differ.

    Examples
    --------
    >>> from tunelab.hyperparameters import Int
    >>> describe_change(Int("units", 8, 64), Int("units", 8, 128))
    '~ units (Int): max_value 64 -> 128'
    """
    if type(old) is not type(new):
        return f"~ {new.name}: {old.kind} -> {new.kind} {new.summary_config()}"
    a, b = old.get_config(), new.get_config()
    # A default neither definition chose follows min_value or the first value: not a
    # change of its own (a stored config holds it written out, as KerasTuner's does).
    implicit = _implicit_default(old, a) and _implicit_default(new, b)
    diffs = [
        f"{k} {a.get(k)!r} -> {b.get(k)!r}"
        for k in b
        if a.get(k) != b.get(k) and not (k == "default" and implicit)
    ]
    return f"~ {new.name} ({new.kind}): " + ", ".join(diffs)


def _implicit_default(hp: HyperParameter, config: dict[str, Any]) -> bool:
    values = config.get("values") or [None]
    return hp._default is None or hp._default == config.get("min_value", values[0])
