"""Hyperparameter definitions: the base class, conditions, Choice, Boolean and Fixed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "HyperParameter",
    "Parent",
    "SearchSpace",
    "bad_definition",
]


def bad_definition(kind: str, name: str, problem: str) -> ValueError:
    return ValueError(f"{kind} hyperparameter {name!r}: {problem}")


class Parent:
    """Condition: the hyperparameter is active only when `name` takes one of `values`.

    Values are ints, floats, strings or bools; as in KerasTuner, the first value sets the
    type of the others (strings are compared as strings, ints as ints).

    Examples
    --------
    >>> Parent("model", ["cnn", "mlp"]).is_active({"model": "cnn"})
    True
    """

    def __init__(self, name: str, values: Any) -> None:
        if not isinstance(values, (list, tuple)):
            values = [values]
        if not values:
            raise ValueError(f"condition on {name!r}: parent_values is empty")
        values = [v.item() if hasattr(v, "item") else v for v in values]
        for v in values:
            if v is None or not isinstance(v, (int, float, str, bool)):
                raise TypeError(
                    f"condition on {name!r}: parent_values {values!r} holds {v!r} of type "
                    f"{type(v).__name__}; expected int, float, str or bool values"
                )
        first = values[0]
        if isinstance(first, str):
            values = [str(v) for v in values]
        elif isinstance(first, int) and not isinstance(first, bool):
            try:
                values = [v if isinstance(v, bool) else int(v) for v in values]
            except ValueError:
                raise ValueError(
                    f"condition on {name!r}: parent_values {values!r} mix integers with "
                    "values that are not integers; expected values of one type"
                ) from None
        self.name = name
        self.values = list(values)

    def is_active(self, values: dict[str, Any]) -> bool:
        return self.name in values and values[self.name] in self.values

    def get_config(self) -> dict[str, Any]:
        return {"class_name": "Parent", "config": {"name": self.name, "values": list(self.values)}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Parent:
        return cls(**config["config"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parent) and (self.name, self.values) == (other.name, other.values)

    def __repr__(self) -> str:
        return f"Parent(name={self.name!r}, values={self.values!r})"


class HyperParameter:
    """Base class of one hyperparameter definition."""

    kind = "HyperParameter"

    def __init__(self, name: str, default: Any = None, conditions: Sequence[Parent] = ()) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"hyperparameter name must be a non-empty string, got {name!r}")
        _check_name_text(name)
        self.name = name
        self._default = default
        self.conditions = list(conditions)

    # -- value handling ---------------------------------------------------------------
    @property
    def default(self) -> Any:
        return self._default

    def contains(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def cast(self, value: Any) -> Any:
        """Convert a value read from text or JSON to this hyperparameter's type."""
        return value

    def validate(self, value: Any) -> Any:
        """Return `value` cast to this type, or raise ValueError saying what was expected."""
        try:
            cast, castable = self.cast(value), True
        except (TypeError, ValueError, OverflowError):  # e.g. int(float("1e400"))
            cast, castable = None, False
        # None is a value only where the space holds it (Fixed(name, None)).
        if not castable or not self.contains(cast):
            raise ValueError(
                f"value {value!r} for {self.kind} hyperparameter {self.name!r} is not in its "
                f"space: expected {self.describe()}"
            )
        return cast

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- unit cube ----------------------------------------------------------------------
    def to_unit(self, value: Any) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def is_discrete(self) -> bool:
        return True

    # -- KerasTuner's sampling methods ---------------------------------------------------
    # They are the public names of the unit-cube mapping the built-in oracles use, so a
    # custom oracle that samples with them proposes what a built-in one would.
    def random_sample(self, seed: Any = None) -> Any:
        """A value drawn at random; the same `seed` gives the same value.

        Examples
        --------
        >>> Choice("act", ["relu", "tanh"]).random_sample(seed=1)
        'relu'
        """
        return self.prob_to_value(random.Random(seed).random())

    def prob_to_value(self, prob: float) -> Any:
        """The value at cumulative probability `prob` in [0, 1)."""
        return self.from_unit(prob)

    def value_to_prob(self, value: Any) -> float:
        """The cumulative probability of `value`: the middle of its bucket in [0, 1)."""
        return self.to_unit(value)

    @property
    def values(self) -> Iterable[Any]:
        """Every possible value, or ten evenly spread ones for a continuous range."""
        raise NotImplementedError

    def grid_values(self) -> list[Any]:
        """All values in order, for grid search."""
        raise ValueError(
            f"{self.kind} hyperparameter {self.name!r} has no finite set of values: "
            "give it a step to use it in a grid search"
        )

    # -- config -------------------------------------------------------------------------
    def _summary_items(self) -> dict[str, Any]:
        return {}

    def _summary_default(self) -> Any:
        return self.default

    def summary_config(self) -> dict[str, Any]:
        """The dictionary KerasTuner prints in `search_space_summary` (no name)."""
        head: dict[str, Any] = {"default": self._summary_default()} if self.kind != "Fixed" else {}
        head["conditions"] = [c.get_config() for c in self.conditions]
        head.update(self._summary_items())
        return head

    def get_config(self) -> dict[str, Any]:
        # KerasTuner's config: the default as its summary shows it (the first value of a
        # Choice, min_value of a Float, None for an Int without one).
        config = {"name": self.name}
        config.update(self.summary_config())
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameter:
        config = dict(config)
        conditions = [Parent.from_config(c) for c in config.pop("conditions", [])]
        return cls(conditions=conditions, **config)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((self.kind, self.name))

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "conditions")
        return f"{self.kind}({items})"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_name_text(name: str) -> None:
    """Refuse names the store cannot keep as text or a terminal cannot show: a NUL ends a
    C string (SQLite, file names), and a lone surrogate is not encodable as UTF-8."""
    if "\x00" in name:
        raise ValueError(f"hyperparameter name {name!r} contains a NUL character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"hyperparameter name {name!r} contains a lone surrogate (not valid Unicode text)"
        ) from None


def _check_finite(kind: str, name: str, values: Sequence[Any]) -> None:
    """Refuse inf and NaN among a hyperparameter's values: a trial's values are stored as
    JSON numbers, which have neither (a stored space with one would not load again)."""
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise bad_definition(
                kind, name, f"value {value!r} is not a finite number; expected finite values"
            )


class Choice(HyperParameter):
    """One of a list of values of one type (int, float, str or bool).

    `ordered` defaults to True for numbers; the default default is the first value.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    0.01
    """

    kind = "Choice"

    def __init__(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        super().__init__(name, default, conditions)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise bad_definition("Choice", name, f"values={values!r}; expected a list of values")
        values = [v.item() if hasattr(v, "item") else v for v in values]
        if not values:
            raise bad_definition("Choice", name, "values is empty; expected at least one value")
        _check_finite("Choice", name, values)
        types = {type(v) for v in values}
        if len(types) > 1:
            names = sorted(t.__name__ for t in types)
            raise bad_definition(
                "Choice", name, f"values mix types {names}; all values must be of one type"
            )
        kind = types.pop()
        if kind not in (int, float, str, bool):
            raise bad_definition(
                "Choice", name, f"values of type {kind.__name__}; expected int, float, str or bool"
            )
        if len(set(values)) != len(values):
            seen: set[Any] = set()
            dup = next(v for v in values if v in seen or seen.add(v))  # type: ignore[func-returns-value]
            raise bad_definition("Choice", name, f"value {dup!r} appears more than once in values")
        self._values = values
        numeric = kind in (int, float)
        if ordered and not numeric:
            raise bad_definition("Choice", name, "ordered=True needs numeric values")
        self.ordered = numeric if ordered is None else bool(ordered)
        if default is not None:
            # `in` would accept 1.0 or True for int values; keep the values' own type.
            try:
                cast = self.cast(default)
            except (TypeError, ValueError, OverflowError):
                cast = None
            if cast is None or not self.contains(cast):
                raise bad_definition(
                    "Choice", name, f"default={default!r} is not one of values {values!r}"
                )
            self._default = cast

    @property
    def values(self) -> list[Any]:  # type: ignore[override]
        return self._values

    @property
    def default(self) -> Any:
        return self.values[0] if self._default is None else self._default

    def cast(self, value: Any) -> Any:
        kind = type(self.values[0])
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, str) and kind is not str:
            if kind is bool:
                return {"true": True, "false": False}.get(value.strip().lower(), value)
            return kind(float(value)) if kind is int else float(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        return f"one of {self.values!r}"

    def to_unit(self, value: Any) -> float:
        return (self.values.index(value) + 0.5) / len(self.values)

    def from_unit(self, u: float) -> Any:
        u = min(1.0, max(0.0, float(u)))
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]

    def grid_values(self) -> list[Any]:
        return list(self.values)

    def _summary_items(self) -> dict[str, Any]:
        return {"values": list(self.values), "ordered": self.ordered}


class Boolean(HyperParameter):
    """True or False (default False)."""

    kind = "Boolean"

    def __init__(self, name: str, default: bool = False, conditions: Sequence[Parent] = ()) -> None:
        if not isinstance(default, bool):
            raise bad_definition("Boolean", name, f"default={default!r}; expected True or False")
        super().__init__(name, default, conditions)

    def cast(self, value: Any) -> Any:
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, str):
            return {"true": True, "false": False}.get(value.strip().lower(), value)
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return value

    def contains(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "True or False"

    def to_unit(self, value: Any) -> float:
        return 0.75 if value else 0.25

    def from_unit(self, u: float) -> bool:
        return float(u) >= 0.5

    def grid_values(self) -> list[Any]:
        return [False, True]

    @property
    def values(self) -> tuple[bool, bool]:
        return (True, False)


class Fixed(HyperParameter):
    """A hyperparameter held at one value (not tuned)."""

    kind = "Fixed"

    def __init__(self, name: str, value: Any, conditions: Sequence[Parent] = ()) -> None:
        if hasattr(value, "item"):
            value = value.item()
        if value is not None and not isinstance(value, (int, float, str, bool)):
            raise bad_definition(
                "Fixed", name, f"value={value!r}; expected an int, float, str, bool or None"
            )
        _check_finite("Fixed", name, [value])
        super().__init__(name, value, conditions)
        self.value = value

    def contains(self, value: Any) -> bool:
        return value == self.value

    def describe(self) -> str:
        return f"exactly {self.value!r}"

    def to_unit(self, value: Any) -> float:
        return 0.5

    def from_unit(self, u: float) -> Any:
        return self.value

    def grid_values(self) -> list[Any]:
        return [self.value]

    @property
    def values(self) -> tuple[Any]:
        return (self.value,)

    def _summary_items(self) -> dict[str, Any]:
        return {"value": self.value}

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.summary_config()}


class SearchSpace(list):
    """The list of definitions, also readable as a mapping through `items()` and `names()`."""

    def items(self) -> list[tuple[str, HyperParameter]]:
        return [(hp.name, hp) for hp in self]

    def names(self) -> list[str]:
        return [hp.name for hp in self]
