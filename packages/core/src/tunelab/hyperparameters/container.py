"""The `HyperParameters` container: the search space and the current values."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tunelab.hyperparameters.definitions import (
    Boolean,
    Choice,
    Fixed,
    HyperParameter,
    Parent,
)
from tunelab.hyperparameters.numerical import Float, Int

__all__ = ["HyperParameters", "SearchSpace", "hyperparameter_from_config"]

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
        self._registered: set[str] = set()  # names the code registered (not copied)

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
        hp = cls(full, *args, conditions=list(self._conditions), **kwargs)  # type: ignore[misc]
        return self._register(hp)

    def _register(self, hp: HyperParameter, origin: str = _CODE) -> Any:
        name = hp.name
        self._registered.add(name)
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
