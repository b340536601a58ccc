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

from tunelab.hyperparameters import HyperParameters
from tunelab.hyperparameters.definitions import Parent

__all__ = ["explore_space"]

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
        known = set(found.space.names())
        found.merge([d for d in hp.space if d.name not in known], overwrite=False)
        conditions = [*hp.scopes, *(c for d in hp.space for c in d.conditions)]
        pending = [c for c in conditions if c not in entered and not c.is_active(hp.values)]
        if not pending:
            break
        entered.append(pending[0])
        values = {pending[0].name: pending[0].values[0]}
    found.values = {}
    return found
