"""The search space a hypermodel defines, found before any trial runs.

KerasTuner builds the hypermodel when a tuner is created, so that ``oracle.get_space()`` and
``search_space_summary()`` know the space before `search`; the tuner does the same with
`explore_space`. A scope whose condition the default values do not meet is entered by
building again with its parent at the condition's first value, as KerasTuner does, so that
hyperparameters registered only there (behind an ``if`` inside the scope) are found too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tunelab.hypermodel import FunctionHyperModel, accepts, names_parameter
from tunelab.hyperparameters import HyperParameters
from tunelab.hyperparameters.definitions import Parent

__all__ = ["builds_alone", "check_new_entries", "explore_space", "populate_space"]

# Builds at most, one per scope the defaults leave inactive (each build of a Keras
# hypermodel makes a model: KerasTuner pays the same).
MAX_BUILDS = 10


class _ScopeRecorder(HyperParameters):
    """HyperParameters that remember the condition of every scope entered, even one in
    which nothing is registered under the current values."""

    def __init__(self, space: HyperParameters, values: dict[str, Any]) -> None:
        super().__init__(values)
        copy = space.copy()
        self._space, self._origin = copy._space, copy._origin  # keeps which entries override
        self.scopes: list[Parent] = []

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        with super().conditional_scope(parent_name, parent_values):
            self.scopes.append(self._conditions[-1])
            yield


def explore_space(hypermodel: Any, space: HyperParameters) -> HyperParameters:
    """`space` with every hyperparameter `hypermodel` registers when built with default
    values, and with each inactive scope entered once (``declare_hyperparameters`` first).
    Raises what the hypermodel raises."""
    found = _ScopeRecorder(space, {})
    hypermodel.declare_hyperparameters(found)
    entered: list[Parent] = []
    values: dict[str, Any] = {}
    for _ in range(MAX_BUILDS):
        hp = _ScopeRecorder(found, values)
        hypermodel.build(hp)
        found.merge(list(hp.space), overwrite=False)  # adds definitions not there yet
        conditions = [*hp.scopes, *(c for d in hp.space for c in d.conditions)]
        pending = [c for c in conditions if c not in entered and not c.is_active(hp.values)]
        if not pending:
            break
        entered.append(pending[0])
        values = {pending[0].name: pending[0].values[0]}
    found.values = {}
    return found


def builds_alone(hypermodel: Any) -> bool:
    """Whether `hypermodel` can be built from the hyperparameters alone (a function that
    takes search() arguments or a `trial` cannot)."""
    if not isinstance(hypermodel, FunctionHyperModel):
        return hypermodel is not None
    function = hypermodel.function
    return accepts(function, (), {}) and not names_parameter(function, "trial")


def populate_space(hypermodel: Any, oracle: Any) -> list[str]:
    """Add what `explore_space` finds to the oracle's space, as KerasTuner's
    ``Oracle.update_space`` does: with ``tune_new_entries=False`` the space stays as given
    (new entries keep their defaults in trials). Returns the new names that
    ``allow_new_entries=False`` refuses (for `check_new_entries`)."""
    try:
        found = explore_space(hypermodel, oracle.get_space())
    except Exception as error:
        if hasattr(error, "add_note"):  # Python 3.11+
            error.add_note(
                f"(raised by {type(hypermodel).__name__}.build, called with default values "
                "when the tuner is created, to find the search space as KerasTuner does)"
            )
        raise
    space = oracle.hyperparameters
    new = [d.name for d in found.space if space._find(d) is None]  # same name and conditions
    if new and not oracle.allow_new_entries:
        return new
    if new and oracle.tune_new_entries:
        oracle.update_space(found)
    return []


def check_new_entries(names: list[str], oracle: Any) -> None:
    """Refuse a hypermodel that registers `names` a closed space (``allow_new_entries=False``)
    lacks: RuntimeError, as KerasTuner's."""
    if names and not oracle.allow_new_entries:
        raise RuntimeError(
            f"allow_new_entries=False, but the hypermodel registers hyperparameters that are "
            f"not in hyperparameters=: {names}; add them to hyperparameters= or pass "
            "allow_new_entries=True"
        )
