"""Checks of user arguments, written once: each error names the argument, the value and
what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_between", "check_int", "check_number", "check_seconds"]


def check_int(name: str, value: Any, minimum: int, allow_none: bool = False) -> Any:
    """`value` as an int >= `minimum` (or None when `allow_none`), else a ValueError.

    >>> check_int("max_trials", 3, 1)
    3
    >>> check_int("max_trials", True, 1)
    Traceback (most recent call last):
    ...
    ValueError: max_trials=True; expected an int >= 1
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = f"an int >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name}={value!r}; expected {expected}")
    return int(value)


def check_seconds(name: str, value: Any, allow_none: bool = True) -> Any:
    """`value` as a number of seconds > 0 (or None when `allow_none`), else a ValueError.

    >>> check_seconds("trial_timeout", 0)
    Traceback (most recent call last):
    ...
    ValueError: trial_timeout=0; expected a number of seconds > 0
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}={value!r}; expected a number of seconds > 0")
    return value


def check_number(name: str, value: Any, minimum: float) -> float:
    """`value` as a float >= `minimum`, else a ValueError (a bool is not a number here).

    >>> check_number("alpha", -1, 0)
    Traceback (most recent call last):
    ...
    ValueError: alpha=-1; expected a number >= 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= minimum:
        raise ValueError(f"{name}={value!r}; expected a number >= {minimum}")
    return value


def check_between(name: str, value: Any, low: float, high: float) -> float:
    """`value` as a float strictly between `low` and `high`, else a ValueError.

    >>> check_between("eta", 1.0, 0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: eta=1.0; expected a number between 0.0 and 1.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise ValueError(f"{name}={value!r}; expected a number between {low} and {high}")
    return float(value)
