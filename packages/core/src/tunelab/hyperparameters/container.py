"""The `HyperParameters` container: the search space and the current values."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tunelab.hyperparameters.changes import describe_change
from tunelab.hyperparameters.definitions import (
    Boolean,
    Choice,
    Fixed,
    HyperParameter,
    Parent,
    SearchSpace,
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


# Where a definition in a HyperParameters came from decides who wins when code registers the
# same name under the same conditions with another definition: a definition loaded from a
# previous run's store gives way to the new code (and the change is reported); otherwise the
# first definition wins and the call returns its value, as KerasTuner's does. That lets a
# user's `hyperparameters=` (registered first) override a hypermodel's own definition.
_OVERRIDE, _STORED, _CODE = "override", "stored", "code"


def _variant_key(hp: HyperParameter) -> str:
    conditions = json.dumps([c.get_config() for c in hp.conditions], sort_keys=True, default=str)
    return f"{hp.name}\x00{conditions}"


class HyperParameters:
    """The search space and the current values of one trial.

    Register hyperparameters with `Int`, `Float`, `Choice`, `Boolean` and `Fixed`; each call
    returns the current value (the default outside a search), or None when its conditions
    do not hold. Registering a name again under the same conditions returns the value of
    the first definition; under other conditions (`conditional_scope`, `parent_name`) it
    is a distinct hyperparameter of the same name, and `get(name)` reads the active one.

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
        # Definitions in registration order (parents before their children). The key is
        # the name for the first definition of a name, so that `_space.get(name)` finds a
        # definition of that name; a definition of the same name under other conditions
        # is keyed by name and conditions (`_variant_key`).
        self._space: dict[str, HyperParameter] = {}
        self._origin: dict[str, str] = {}
        self._variant_names: set[str] = set()
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
        parents = self._entries_named(full)
        if not parents:
            raise ValueError(
                f"conditional_scope: parent hyperparameter {parent_name!r} is not registered; "
                "register it before opening a scope on it"
            )
        condition = Parent(full, parent_values)
        for v in condition.values:
            if not any(isinstance(p, Fixed) or _holds(p, v) for p in parents):
                raise ValueError(
                    f"conditional_scope: parent_values {condition.values!r} for "
                    f"{parent_name!r}: {v!r} is not in its space ({parents[0].describe()})"
                )
        self._conditions.append(condition)
        try:
            yield
        finally:
            self._conditions.pop()

    def _full_name(self, name: str) -> str:
        return "/".join([*self._scopes, name]) if self._scopes else name

    # -- the entries ----------------------------------------------------------------------
    def _find(self, hp: HyperParameter) -> HyperParameter | None:
        """The registered definition with the name and conditions of `hp`, if any."""
        first = self._space.get(hp.name)
        if first is None or first.conditions == hp.conditions:
            return first
        return self._space.get(_variant_key(hp)) if hp.name in self._variant_names else None

    def _key(self, hp: HyperParameter) -> str:
        first = self._space.get(hp.name)
        return hp.name if first is None or first.conditions == hp.conditions else _variant_key(hp)

    def _put(self, hp: HyperParameter, origin: str = _CODE) -> None:
        """Add `hp`, or replace the definition with its name and conditions."""
        key = self._key(hp)
        if key != hp.name:
            self._variant_names.add(hp.name)
        self._space[key] = hp
        self._origin[key] = origin

    def _entries_named(self, name: str) -> list[HyperParameter]:
        first = self._space.get(name)
        if first is None:
            return []
        if name not in self._variant_names:
            return [first]
        return [hp for hp in self._space.values() if hp.name == name]

    def _validate(self, name: str, value: Any) -> Any:
        """`value` checked against the definitions of `name` (one of them must hold it)."""
        first, *others = self._entries_named(name)
        try:
            return first.validate(value)
        except ValueError:
            for hp in others:
                with contextlib.suppress(ValueError):
                    return hp.validate(value)
            raise  # the first definition's error

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
        if any(c.name == full for c in self._conditions):
            raise ValueError(
                f"hyperparameter {full!r} is registered inside a conditional_scope on "
                f"{full!r}: a conditional hyperparameter cannot have the name of its parent"
            )
        hp = cls(full, *args, conditions=list(self._conditions), **kwargs)  # type: ignore[misc]
        return self._register(hp)

    def _register(self, hp: HyperParameter, origin: str = _CODE) -> Any:
        self._registered.add(hp.name)
        existing = self._find(hp)
        if existing is not None:
            stored = self._origin.get(self._key(existing), _CODE) == _STORED
            if stored and existing != hp:  # (comparing definitions costs two get_configs)
                self._changes.append(describe_change(existing, hp))
                self._put(hp, origin)
                if hp.name in self.values:
                    try:
                        self.values[hp.name] = hp.validate(self.values[hp.name])
                    except ValueError:
                        del self.values[hp.name]
                        self._fill(hp)
                return self._retrieve(hp)
            # The first definition wins (KerasTuner's rule): a user's override, or the
            # first of two registrations in a hypermodel.
            return self._retrieve(existing)
        if self._sampler is not None and not self._allow_new_entries:
            raise ValueError(
                f"hyperparameter {hp.name!r} is not in the search space and this search does "
                "not allow new entries (allow_new_entries=False): add it to `hyperparameters=`"
            )
        self._put(hp, origin)
        if self._sampler is not None and not self._tune_new_entries and not isinstance(hp, Fixed):
            self._untuned.add(hp.name)
        self._fill(hp)
        return self._retrieve(hp)

    def _fill(self, hp: HyperParameter) -> None:
        name = hp.name
        if not self.is_active(hp):
            return
        if name in self.values:
            try:
                self.values[name] = hp.validate(self.values[name])
            except ValueError:
                # Another active definition of the name holds it: keep it (KerasTuner
                # keeps the value); a value in no definition's space is an error.
                if not any(
                    other is not hp and self.is_active(other) for other in self._entries_named(name)
                ):
                    raise
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
        """Whether all conditions of `hp` (and of its parents) hold for the current values.

        For a name, whether any definition of that name is active.
        """
        return self._active(hp, set())

    def _active(self, hp: HyperParameter | str, seen: set[str]) -> bool:
        if isinstance(hp, str):
            entries = self._entries_named(hp)
            if not entries:
                raise ValueError(f"unknown hyperparameter {hp!r}")
            if hp in seen:  # conditions that refer back to this name: not active
                return False
            return any(self._active(entry, seen | {hp}) for entry in entries)
        for condition in hp.conditions:
            if not condition.is_active(self.values):
                return False
            if condition.name in self._space and not self._active(condition.name, seen):
                return False
        return True

    def get(self, name: str) -> Any:
        """The current value of `name`: that of its active definition.

        Raises ValueError when every definition of `name` is inactive, KeyError when the
        name is unknown.
        """
        full = name if name in self._space else self._full_name(name)
        entries = self._entries_named(full)
        if entries:
            for hp in entries:
                if self.is_active(hp):
                    return self._retrieve(hp)
            raise ValueError(
                f"hyperparameter {full!r} is currently inactive: the conditions "
                f"{[c.get_config()['config'] for c in entries[0].conditions]} do not hold for "
                "the current values"
            )
        if full in self.values:
            return self.values[full]
        raise KeyError(f"{name!r} is not a registered hyperparameter; known: {self.space.names()}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        """Whether `name` has a value now (registered and active), as KerasTuner's."""
        try:
            self.get(name)
        except (KeyError, ValueError):
            return False
        return True

    @property
    def space(self) -> SearchSpace:
        """The definitions, in registration order."""
        return SearchSpace(self._space.values())

    def active_values(self) -> dict[str, Any]:
        """Values of the active hyperparameters only, in registration order."""
        out: dict[str, Any] = {}
        for hp in self._space.values():
            if hp.name in self.values and hp.name not in out and self.is_active(hp):
                out[hp.name] = self.values[hp.name]
        out.update({n: v for n, v in self.values.items() if n not in self._space})
        return out

    def ensure_active_values(self) -> None:
        """Give each active hyperparameter without a value a random one, and drop the values
        of inactive ones (KerasTuner's method of the same name)."""
        for hp in self._space.values():
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.random_sample()
            elif not self.is_active(hp.name):
                self.values.pop(hp.name, None)

    # -- copies and config ---------------------------------------------------------------
    def copy(self) -> HyperParameters:
        new = HyperParameters(dict(self.values))
        new._space = dict(self._space)
        new._origin = dict(self._origin)
        new._variant_names = set(self._variant_names)
        return new

    def merge(
        self,
        other: HyperParameters | Sequence[HyperParameter],
        overwrite: bool = True,
        origin: str = _CODE,
    ) -> None:
        """Add the definitions of `other` (its values too, when it is a HyperParameters).

        With `overwrite`, a definition of `other` replaces the one with the same name and
        conditions here.
        """
        space = other.space if isinstance(other, HyperParameters) else list(other)
        for hp in space:
            if overwrite or self._find(hp) is None:
                self._put(hp, origin)
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
        """Rebuild what `get_config` wrote (KerasTuner's `HyperParameters.from_config`)."""
        if not isinstance(config, dict) or "space" not in config:
            raise ValueError(f"not a HyperParameters config: {config!r}")
        hps = cls()
        for item in config["space"]:
            hps._put(hyperparameter_from_config(item))
        hps.values = dict(config.get("values", {}))
        return hps

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"


def _holds(parent: HyperParameter, value: Any) -> bool:
    try:
        return parent.contains(parent.cast(value))
    except (TypeError, ValueError, OverflowError):
        return False
