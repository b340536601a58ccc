"""The search space: hyperparameter definitions and the `HyperParameters` container.

Every hyperparameter maps to and from the unit interval (`to_unit` / `from_unit`), so each
oracle works on one numeric form: a point in the unit hypercube. Definitions round-trip
through plain JSON with `get_config` / `from_config`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
    "Parent",
]

_SAMPLINGS = ("linear", "log", "reverse_log")


def _bad(kind: str, name: str, problem: str) -> ValueError:
    return ValueError(f"{kind} hyperparameter {name!r}: {problem}")


class Parent:
    """Condition: the hyperparameter is active only when `name` takes one of `values`."""

    def __init__(self, name: str, values: Any) -> None:
        if not isinstance(values, (list, tuple)):
            values = [values]
        if not values:
            raise ValueError(f"condition on {name!r}: parent_values is empty")
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
            cast = self.cast(value)
        except (TypeError, ValueError):
            cast = None
        if cast is None or not self.contains(cast):
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
        config = {"name": self.name}
        config.update(self.summary_config())
        if self.kind != "Fixed":
            config["default"] = self._default
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


def _check_bounds(kind: str, name: str, min_value: float, max_value: float) -> None:
    for label, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _bad(kind, name, f"{label}={v!r} is not a finite number")
    if min_value > max_value:
        raise _bad(kind, name, f"min_value={min_value!r} is greater than max_value={max_value!r}")


class _Numerical(HyperParameter):
    """Shared logic of Int and Float: linear, log and reverse-log scales, optional step."""

    def __init__(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str | None = "linear",
        default: Any = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        super().__init__(name, default, conditions)
        sampling = "linear" if sampling is None else sampling
        if not isinstance(sampling, str) or sampling.lower() not in _SAMPLINGS:
            raise _bad(self.kind, name, f"sampling={sampling!r}; expected one of {_SAMPLINGS}")
        self.sampling = sampling.lower()
        _check_bounds(self.kind, name, min_value, max_value)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
                raise _bad(self.kind, name, f"step={step!r}; expected a number > 0")
            if self.sampling != "linear" and not step > 1:
                raise _bad(
                    self.kind,
                    name,
                    f"step={step!r} with sampling={self.sampling!r} is a multiplying factor "
                    "and must be > 1",
                )
        if self.sampling != "linear" and min_value <= 0:
            raise _bad(
                self.kind,
                name,
                f"sampling={self.sampling!r} needs min_value > 0, got {min_value!r}",
            )
        self.min_value = min_value
        self.max_value = max_value
        self.step = step
        if default is not None:
            self._default = self.validate(default)

    # The finite list of values when a step is given (linear: additive, log: multiplicative).
    def _stepped_values(self) -> list[Any] | None:
        if self.step is None:
            return None
        if self.sampling == "linear":
            count = int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
            return [self._snap(self.min_value + i * self.step) for i in range(count)]
        count = int(math.floor(math.log(self.max_value / self.min_value, self.step) + 1e-9)) + 1
        return [self._snap(self.min_value * self.step**i) for i in range(count)]

    def _snap(self, value: float) -> Any:
        return value

    @property
    def is_discrete(self) -> bool:
        return self.step is not None

    def grid_values(self) -> list[Any]:
        values = self._stepped_values()
        if values is None:
            return super().grid_values()
        return values

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not (self.min_value - 1e-12 <= value <= self.max_value + 1e-12):
            return False
        values = self._values_cache()
        if values is None:
            return True
        return any(math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12) for v in values)

    def _values_cache(self) -> list[Any] | None:
        if not hasattr(self, "_cached_values"):
            self._cached_values = self._stepped_values()
        return self._cached_values

    def describe(self) -> str:
        text = f"a {self.kind.lower()} in [{self.min_value}, {self.max_value}]"
        if self.step is not None:
            text += f" with step {self.step}"
        return text

    def _log_bounds(self) -> tuple[float, float]:
        return math.log(self.min_value), math.log(self.max_value)

    def _continuous_to_unit(self, value: float) -> float:
        lo, hi = self.min_value, self.max_value
        if hi == lo:
            return 0.5
        if self.sampling == "linear":
            return (value - lo) / (hi - lo)
        llo, lhi = self._log_bounds()
        if self.sampling == "log":
            return (math.log(value) - llo) / (lhi - llo)
        # reverse_log: fine resolution near max_value
        return 1.0 - (math.log(hi + lo - value) - llo) / (lhi - llo)

    def _continuous_from_unit(self, u: float) -> float:
        lo, hi = self.min_value, self.max_value
        if self.sampling == "linear":
            return lo + u * (hi - lo)
        llo, lhi = self._log_bounds()
        if self.sampling == "log":
            return math.exp(llo + u * (lhi - llo))
        return hi + lo - math.exp(llo + (1.0 - u) * (lhi - llo))

    def to_unit(self, value: Any) -> float:
        values = self._values_cache()
        if values is not None:
            index = min(range(len(values)), key=lambda i: abs(values[i] - value))
            return (index + 0.5) / len(values)
        return min(1.0, max(0.0, self._continuous_to_unit(float(value))))

    def from_unit(self, u: float) -> Any:
        u = min(1.0, max(0.0, float(u)))
        values = self._values_cache()
        if values is not None:
            return values[min(int(u * len(values)), len(values) - 1)]
        value = self._continuous_from_unit(u)
        return min(self.max_value, max(self.min_value, self._snap(value)))

    def _summary_items(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "step": self.step,
            "sampling": self.sampling,
        }


class Int(_Numerical):
    """An integer in `[min_value, max_value]`.

    With `step`, values are `min_value + k * step` (or `min_value * step**k` for log sampling).
    The default default is `min_value`.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Int("units", min_value=32, max_value=128, step=32)
    32
    """

    kind = "Int"

    def __init__(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str | None = "linear",
        default: int | None = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        for label, v in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if v is None and label == "step":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
                raise _bad("Int", name, f"{label}={v!r} is not an integer")
        super().__init__(
            name,
            int(min_value),
            int(max_value),
            None if step is None else int(step),
            sampling,
            default,
            conditions,
        )

    @property
    def default(self) -> int:
        return self.min_value if self._default is None else self._default

    def _summary_default(self) -> Any:
        # KerasTuner prints an Int's unset default as None (the value used is min_value).
        return self._default

    @property
    def is_discrete(self) -> bool:
        return True

    def _snap(self, value: float) -> int:
        return int(round(value))

    def cast(self, value: Any) -> Any:
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if hasattr(value, "item"):  # numpy scalar
            return self.cast(value.item())
        return value

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and super().contains(value)

    def to_unit(self, value: Any) -> float:
        if self.step is None and self.sampling == "linear":
            count = self.max_value - self.min_value + 1
            return (int(value) - self.min_value + 0.5) / count
        return super().to_unit(value)

    def from_unit(self, u: float) -> int:
        if self.step is None and self.sampling == "linear":
            count = self.max_value - self.min_value + 1
            u = min(1.0, max(0.0, float(u)))
            return self.min_value + min(int(u * count), count - 1)
        return int(super().from_unit(u))

    def grid_values(self) -> list[Any]:
        if self.step is None and self.sampling == "linear":
            return list(range(self.min_value, self.max_value + 1))
        return super().grid_values()


class Float(_Numerical):
    """A float in `[min_value, max_value]`, continuous unless `step` is given.

    The default default is `min_value`.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    0.0001
    """

    kind = "Float"

    def __init__(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str | None = "linear",
        default: float | None = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        super().__init__(
            name,
            float(min_value) if _is_number(min_value) else min_value,
            float(max_value) if _is_number(max_value) else max_value,
            step,
            sampling,
            default,
            conditions,
        )

    @property
    def default(self) -> float:
        return self.min_value if self._default is None else self._default

    def cast(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) or hasattr(value, "item"):
            return float(value)
        return value

    def contains(self, value: Any) -> bool:
        return isinstance(value, float) and super().contains(value)

    def _snap(self, value: float) -> float:
        return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
            raise _bad("Choice", name, f"values={values!r}; expected a list of values")
        values = [v.item() if hasattr(v, "item") else v for v in values]
        if not values:
            raise _bad("Choice", name, "values is empty; expected at least one value")
        types = {type(v) for v in values}
        if len(types) > 1:
            names = sorted(t.__name__ for t in types)
            raise _bad("Choice", name, f"values mix types {names}; all values must be of one type")
        kind = types.pop()
        if kind not in (int, float, str, bool):
            raise _bad(
                "Choice", name, f"values of type {kind.__name__}; expected int, float, str or bool"
            )
        if len(set(values)) != len(values):
            seen: set[Any] = set()
            dup = next(v for v in values if v in seen or seen.add(v))  # type: ignore[func-returns-value]
            raise _bad("Choice", name, f"value {dup!r} appears more than once in values")
        self.values = values
        numeric = kind in (int, float)
        if ordered and not numeric:
            raise _bad("Choice", name, "ordered=True needs numeric values")
        self.ordered = numeric if ordered is None else bool(ordered)
        if default is not None and default not in values:
            raise _bad("Choice", name, f"default={default!r} is not one of values {values!r}")

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
            raise _bad("Boolean", name, f"default={default!r}; expected True or False")
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


class Fixed(HyperParameter):
    """A hyperparameter held at one value (not tuned)."""

    kind = "Fixed"

    def __init__(self, name: str, value: Any, conditions: Sequence[Parent] = ()) -> None:
        if hasattr(value, "item"):
            value = value.item()
        if value is not None and not isinstance(value, (int, float, str, bool)):
            raise _bad("Fixed", name, f"value={value!r}; expected an int, float, str, bool or None")
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

    def _summary_items(self) -> dict[str, Any]:
        return {"value": self.value}

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.summary_config()}


_CLASSES: dict[str, type[HyperParameter]] = {
    cls.kind: cls for cls in (Int, Float, Choice, Boolean, Fixed)
}


def hyperparameter_from_config(config: dict[str, Any]) -> HyperParameter:
    """Rebuild a hyperparameter from `{"class_name": ..., "config": ...}`."""
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(
            f"not a hyperparameter config: {config!r}; expected class_name in {sorted(_CLASSES)}"
        )
    return _CLASSES[config["class_name"]].from_config(config["config"])


class _Registrar:
    """`HyperParameters.Int` is the class on the class and a registering method on an instance.

    KerasTuner code uses both: `hp.Int("units", 32, 128)` returns a value, while
    `isinstance(x, kt.HyperParameters.Int)` tests a definition.
    """

    def __init__(self, cls: type[HyperParameter]) -> None:
        self.cls = cls

    def __get__(self, obj: HyperParameters | None, owner: type) -> Any:
        if obj is None:
            return self.cls
        cls = self.cls

        def register(
            *args: Any, parent_name: str | None = None, parent_values: Any = None, **kwargs: Any
        ) -> Any:
            return obj._define(cls, args, kwargs, parent_name, parent_values)

        register.__doc__ = cls.__doc__
        register.__name__ = cls.kind
        return register


class SearchSpace(list):
    """The list of definitions, also readable as a mapping through `items()` and `names()`."""

    def items(self) -> list[tuple[str, HyperParameter]]:
        return [(hp.name, hp) for hp in self]

    def names(self) -> list[str]:
        return [hp.name for hp in self]


# Where a definition in a HyperParameters came from decides who wins when code registers the
# same name with another definition: the user's override (`hyperparameters=`) always wins;
# a definition loaded from a previous run's store gives way to the new code (and the change
# is reported); anywhere else a different definition is an error.
_OVERRIDE, _STORED, _CODE = "override", "stored", "code"


class HyperParameters:
    """The search space and the current values of one trial.

    Register hyperparameters with `Int`, `Float`, `Choice`, `Boolean` and `Fixed`; each call
    returns the current value (the default outside a search). Registering a name again
    returns the same value.

    Parameters
    ----------
    values : dict, optional
        Initial values, e.g. from a previous search.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Int("layers", 1, 3)
    1
    >>> with hp.conditional_scope("layers", [2, 3]):
    ...     hp.Int("units_2", 8, 64, step=8)
    >>> hp.values
    {'layers': 1}
    """

    Int = _Registrar(Int)
    Float = _Registrar(Float)
    Choice = _Registrar(Choice)
    Boolean = _Registrar(Boolean)
    Fixed = _Registrar(Fixed)

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._space: dict[str, HyperParameter] = {}
        self._origin: dict[str, str] = {}
        self.values: dict[str, Any] = dict(values or {})
        self._conditions: list[Parent] = []
        self._scopes: list[str] = []
        # Set by an oracle on the HyperParameters it hands to a trial (define-by-run).
        self._sampler: Callable[[HyperParameter], Any] | None = None
        self._tune_new_entries = True
        self._allow_new_entries = True
        self._untuned: set[str] = set()
        self._changes: list[str] = []

    # -- scopes -------------------------------------------------------------------------
    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names registered inside with `name/`."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters registered inside are active only when `parent_name` is in `parent_values`."""
        full = self._full_name(parent_name)
        if full not in self._space:
            raise ValueError(
                f"conditional_scope: parent hyperparameter {parent_name!r} is not registered; "
                "register it before opening a scope on it"
            )
        condition = Parent(full, parent_values)
        parent = self._space[full]
        for v in condition.values:
            if not isinstance(parent, Fixed) and not parent.contains(parent.cast(v)):
                raise ValueError(
                    f"conditional_scope: parent_values {condition.values!r} for "
                    f"{parent_name!r}: {v!r} is not in its space ({parent.describe()})"
                )
        self._conditions.append(condition)
        try:
            yield
        finally:
            self._conditions.pop()

    def _full_name(self, name: str) -> str:
        return "/".join([*self._scopes, name]) if self._scopes else name

    # -- registration -------------------------------------------------------------------
    def _define(
        self,
        cls: type[HyperParameter],
        args: tuple,
        kwargs: dict[str, Any],
        parent_name: str | None,
        parent_values: Any,
    ) -> Any:
        if parent_name is not None:
            with self.conditional_scope(parent_name, parent_values):
                return self._define(cls, args, kwargs, None, None)
        if args:
            name, args = args[0], args[1:]
        elif "name" in kwargs:
            name = kwargs.pop("name")
        else:
            raise TypeError(f"{cls.kind}() missing the hyperparameter name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"hyperparameter name must be a non-empty string, got {name!r}")
        full = self._full_name(name)
        hp = cls(full, *args, conditions=list(self._conditions), **kwargs)
        return self._register(hp)

    def _register(self, hp: HyperParameter, origin: str = _CODE) -> Any:
        name = hp.name
        existing = self._space.get(name)
        if existing is not None:
            if existing != hp:
                kept = self._origin.get(name, _CODE)
                if kept == _OVERRIDE:
                    return self._retrieve(existing)
                if kept == _STORED:
                    self._changes.append(_describe_change(existing, hp))
                    self._space[name] = hp
                    self._origin[name] = origin
                    if name in self.values:
                        try:
                            self.values[name] = hp.validate(self.values[name])
                        except ValueError:
                            del self.values[name]
                            self._fill(hp)
                    return self._retrieve(hp)
                raise ValueError(
                    f"hyperparameter {name!r} is already registered as {existing!r}; "
                    f"registering it again as {hp!r} is a different definition"
                )
            return self._retrieve(existing)
        if self._sampler is not None and not self._allow_new_entries:
            raise ValueError(
                f"hyperparameter {name!r} is not in the search space and this search does not "
                "allow new entries (allow_new_entries=False): add it to `hyperparameters=`"
            )
        self._space[name] = hp
        self._origin[name] = origin
        if self._sampler is not None and not self._tune_new_entries and not isinstance(hp, Fixed):
            self._untuned.add(name)
        self._fill(hp)
        return self._retrieve(hp)

    def _fill(self, hp: HyperParameter) -> None:
        name = hp.name
        if not self.is_active(hp):
            return
        if name in self.values:
            self.values[name] = hp.validate(self.values[name])
        elif self._sampler is not None and name not in self._untuned:
            self.values[name] = self._sampler(hp)
        else:
            self.values[name] = hp.default

    def _retrieve(self, hp: HyperParameter) -> Any:
        if not self.is_active(hp):
            return None
        if hp.name not in self.values:
            self._fill(hp)
        return self.values[hp.name]

    # -- queries ------------------------------------------------------------------------
    def is_active(self, hp: HyperParameter | str) -> bool:
        """Whether all conditions of `hp` (and of its parents) hold for the current values."""
        definition = self._space.get(hp) if isinstance(hp, str) else hp
        if definition is None:
            raise ValueError(f"unknown hyperparameter {hp!r}")
        for condition in definition.conditions:
            parent = self._space.get(condition.name)
            if parent is not None and not self.is_active(parent):
                return False
            if not condition.is_active(self.values):
                return False
        return True

    def get(self, name: str) -> Any:
        """The current value of `name` (None when inactive)."""
        full = name if name in self._space else self._full_name(name)
        if full in self._space:
            return self._retrieve(self._space[full])
        if full in self.values:
            return self.values[full]
        raise KeyError(f"{name!r} is not a registered hyperparameter; known: {list(self._space)}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._space or name in self.values

    @property
    def space(self) -> SearchSpace:
        """The definitions, in registration order."""
        return SearchSpace(self._space.values())

    def active_values(self) -> dict[str, Any]:
        """Values of the active hyperparameters only, in registration order."""
        out = {
            n: self.values[n]
            for n, hp in self._space.items()
            if n in self.values and self.is_active(hp)
        }
        out.update({n: v for n, v in self.values.items() if n not in self._space})
        return out

    # -- copies and config ---------------------------------------------------------------
    def copy(self) -> HyperParameters:
        new = HyperParameters(dict(self.values))
        new._space = dict(self._space)
        new._origin = dict(self._origin)
        return new

    def merge(
        self,
        other: HyperParameters | Sequence[HyperParameter],
        overwrite: bool = True,
        origin: str = _CODE,
    ) -> None:
        """Add the definitions of `other` (its values too, when it is a HyperParameters)."""
        space = other.space if isinstance(other, HyperParameters) else list(other)
        for hp in space:
            if overwrite or hp.name not in self._space:
                self._space[hp.name] = hp
                self._origin[hp.name] = origin
        if isinstance(other, HyperParameters):
            for name, value in other.values.items():
                if overwrite or name not in self.values:
                    self.values[name] = value

    def get_config(self) -> dict[str, Any]:
        """Plain-JSON description: the space and the values."""
        return {
            "space": [{"class_name": hp.kind, "config": hp.get_config()} for hp in self.space],
            "values": dict(self.values),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameters:
        if not isinstance(config, dict) or "space" not in config:
            raise ValueError(f"not a HyperParameters config: {config!r}")
        hps = cls()
        for item in config["space"]:
            hp = hyperparameter_from_config(item)
            hps._space[hp.name] = hp
            hps._origin[hp.name] = _CODE
        hps.values = dict(config.get("values", {}))
        return hps

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"


def _describe_change(old: HyperParameter, new: HyperParameter) -> str:
    if type(old) is not type(new):
        return f"~ {new.name}: {old.kind} -> {new.kind} {new.summary_config()}"
    a, b = old.get_config(), new.get_config()
    diffs = [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in b if a.get(k) != b.get(k)]
    return f"~ {new.name} ({new.kind}): " + ", ".join(diffs)
