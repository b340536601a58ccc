"""Grid search: every combination of values, in order, respecting conditions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tunelab.hyperparameters import HyperParameter
from tunelab.oracles.base import Oracle
from tunelab.trial import Trial

__all__ = ["GridSearchOracle", "is_finite", "iter_grid", "untried_grid_values"]

# Enumerating a grid to find the values not tried yet is cheap for small grids only.
_MAX_ENUMERATION = 200_000


def iter_grid(
    space: list[HyperParameter], values: dict[str, Any] | None = None, start: int = 0
) -> Iterator[dict[str, Any]]:
    """Every combination of the active hyperparameters' values; the last one varies fastest.

    A hyperparameter whose conditions do not hold is left out (it does not multiply the grid).
    """
    values = {} if values is None else values
    if start == len(space):
        yield dict(values)
        return
    hp = space[start]
    if not all(c.is_active(values) for c in hp.conditions):
        yield from iter_grid(space, values, start + 1)
        return
    for value in hp.grid_values():
        values[hp.name] = value
        yield from iter_grid(space, values, start + 1)
    del values[hp.name]


def is_finite(space: list[HyperParameter]) -> bool:
    """Whether every hyperparameter has a finite list of values."""
    try:
        for hp in space:
            hp.grid_values()
    except ValueError:
        return False
    return True


def untried_grid_values(
    oracle: Oracle, trial: Trial, shuffle: bool = False
) -> dict[str, Any] | None:
    """Values of an untried grid point (a random one with `shuffle`), or None if none is left.

    Only for spaces where every hyperparameter has finitely many values.
    """
    space = oracle.hyperparameters.space
    untried = []
    for count, values in enumerate(iter_grid(space)):
        if count >= _MAX_ENUMERATION:
            break
        if not oracle.tried(values):
            if not shuffle:
                return values
            untried.append(values)
    if not untried:
        return None
    return untried[int(oracle.rng(trial).integers(len(untried)))]


class GridSearchOracle(Oracle):
    """Grid search oracle: tries every combination of the hyperparameters' values.

    Works over Choice, Boolean, Fixed, Int and stepped Float hyperparameters; a Float
    without a step raises a ValueError saying so. Conditional hyperparameters are only
    varied where they are active. Hyperparameters first registered during a trial start
    at their default and are varied in later trials.

    Parameters
    ----------
    See `Oracle`; `max_trials` may be None to run the whole grid.

    Examples
    --------
    >>> import tunelab as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Choice("optimizer", ["adam", "sgd"]); _ = hp.Int("layers", 1, 2)
    >>> oracle = kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp)
    >>> [oracle.ask().hyperparameters.values for _ in range(2)]
    [{'optimizer': 'adam', 'layers': 1}, {'optimizer': 'adam', 'layers': 2}]
    """

    # The grid's order never depends on results.
    learns_from_results = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cursor: Iterator[dict[str, Any]] | None = None
        self._cursor_space: list[str] = []

    def sample_new(self, hp: HyperParameter, trial: Trial) -> Any:
        return hp.default

    def populate_space(self, trial: Trial) -> dict[str, Any] | None:
        space = self.hyperparameters.space
        for hp in space:
            hp.grid_values()  # raises a clear error for continuous hyperparameters
        names = space.names()
        if self._cursor is None or names != self._cursor_space:
            self._cursor, self._cursor_space = iter_grid(space), names
        for values in self._cursor:
            if not self.tried(values):
                return values
        return None
