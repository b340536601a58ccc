"""Grid search: every combination of values, in KerasTuner's order, respecting conditions.

The search walks the grid as KerasTuner 1.4's GridSearch does, like an odometer: the first
trial takes every hyperparameter's default, and each finished trial's successor bumps the
last active hyperparameter (in registration order) to its next value, or resets it to its
default and carries to the one before. A hyperparameter's values start with its default.
Hyperparameters that a trial registers (define-by-run, conditional scopes) join the odometer
from that trial on: they are varied for the trials that follow, not for those already run,
so a build that registers ``units_{i}`` for each of ``layers`` layers runs every
configuration once instead of re-running shallow models with unused units.

A Float without a step, and a log-sampled Int without a step, contribute KerasTuner's ten
evenly spaced values (at the centres of ten equal slices of their sampling scale) after
their default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from tunelab.hyperparameters import Float, HyperParameter, HyperParameters, Int
from tunelab.oracles.base import Oracle
from tunelab.study import WAIT
from tunelab.trial import Trial, TrialStatus

__all__ = [
    "GridSearchOracle",
    "grid_order",
    "is_finite",
    "iter_grid",
    "next_combination",
    "untried_grid_values",
]

_UNFINISHED = (TrialStatus.RUNNING, TrialStatus.IDLE)
# Where the oracle notes which trials' successors it has taken (store metadata).
_META_KEY = "grid_search"

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


def _spaced_values(hp: HyperParameter) -> list[Any]:
    """KerasTuner's ten values of a numerical hyperparameter without a finite step list."""
    if not isinstance(hp, (Int, Float)):
        return list(hp.grid_values())  # raises the hyperparameter's own error
    lo = hp.min_value
    # An Int's values are taken from [min, max + 1) so that max can be drawn, as KerasTuner.
    hi = hp.max_value + 1 if isinstance(hp, Int) else hp.max_value
    points = []
    for i in range(10):
        # The same float operations as KerasTuner, so that the values are bit for bit equal.
        prob = i * 0.1 + 0.05
        if hp.sampling == "linear":
            value = prob * (hi - lo) + lo
        elif hp.sampling == "log":
            value = lo * math.pow(hi / lo, prob)
        else:
            value = hi + lo - lo * math.pow(hi / lo, 1 - prob)
        points.append(int(value) if isinstance(hp, Int) else value)
    # KerasTuner lists them in the iteration order of a Python set of the numbers, which is
    # deterministic (numbers hash to themselves); the same set gives the same order.
    return list(set(points))


def grid_order(hp: HyperParameter) -> list[Any]:
    """The values a grid search tries for `hp`, in order: its default first, then its other
    values (a Float without a step: KerasTuner's ten evenly spaced values).

    Examples
    --------
    >>> import tunelab as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Choice("units", [8, 16, 32], default=16)
    >>> grid_order(hp.space[0])
    [16, 8, 32]
    """
    try:
        values = list(hp.grid_values())
    except ValueError:
        values = _spaced_values(hp)
    default = hp.default
    return [default, *(v for v in values if v != default)]


def _active(hp: HyperParameter, values: dict[str, Any]) -> bool:
    return all(c.is_active(values) for c in hp.conditions)


def default_values(space: HyperParameters) -> dict[str, Any]:
    """Every active hyperparameter at its default: a grid search's first trial."""
    values: dict[str, Any] = {}
    for hp in space.space:
        if _active(hp, values):
            values[hp.name] = hp.default
    return values


def _positions(order: list[Any]) -> dict[Any, int]:
    positions: dict[Any, int] = {}
    for index, value in enumerate(order):
        positions.setdefault(value, index)  # the first, as list.index
    return positions


def next_combination(
    space: HyperParameters,
    values: dict[str, Any],
    orders: Callable[[HyperParameter], tuple[list[Any], dict[Any, int]]] | None = None,
) -> dict[str, Any] | None:
    """The grid point after `values`, or None after the last one.

    The last active hyperparameter that is not at its last value moves to its next value;
    those after it go back to their defaults; the hyperparameters that this activates or
    deactivates join or leave. A value missing from `values` (a hyperparameter registered
    after that trial ran) counts as the default. `orders(hp)`, if given, returns
    ``grid_order(hp)`` and each value's position in it (a cache for long grids).

    Examples
    --------
    >>> import tunelab as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Choice("a", [1, 2]); _ = hp.Boolean("b")
    >>> next_combination(hp, {"a": 1, "b": True})
    {'a': 2, 'b': False}
    >>> next_combination(hp, {"a": 2, "b": True}) is None
    True
    """
    hps = space.space
    current = dict(values)
    bumped = False
    for index in range(len(hps) - 1, -1, -1):
        hp = hps[index]
        if orders is None:
            order = grid_order(hp)
            positions = _positions(order)
        else:
            order, positions = orders(hp)
        if _active(hp, current):
            value = current.get(hp.name, hp.default)
            # A value off the grid (e.g. an enqueued one) continues from the default.
            position = positions.get(value, 0)
            if position + 1 < len(order):
                current[hp.name] = order[position + 1]
                bumped = True
                break
        current[hp.name] = hp.default
    if not bumped:
        return None
    out: dict[str, Any] = {}
    for hp in hps:
        if _active(hp, out):
            out[hp.name] = current.get(hp.name, hp.default)
    return out


class GridSearchOracle(Oracle):
    """Grid search oracle: tries every combination of the hyperparameters' values, in
    KerasTuner's order (see the module docstring).

    Works over every hyperparameter: Choice, Boolean, Fixed and Int take all their values,
    a Float with a step its steps, a Float without a step (and a log-sampled Int without a
    step) KerasTuner's ten evenly spaced values. Conditional hyperparameters are only varied
    where they are active. Hyperparameters first registered during a trial start at their
    default and are varied in the trials that follow.

    With several workers, a trial that is still running may register new hyperparameters:
    while the known grid has points left, workers get them; once it has none, they wait
    for the running trials rather than declare the grid exhausted.

    Parameters
    ----------
    See `Oracle`; `max_trials` may be None to run the whole grid.

    Examples
    --------
    >>> import tunelab as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Choice("optimizer", ["adam", "sgd"]); _ = hp.Int("layers", 1, 2)
    >>> oracle = kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp)
    >>> seen = []
    >>> while (trial := oracle.ask()) is not None:
    ...     seen.append(trial.hyperparameters.values)
    ...     _ = oracle.tell(trial, 1.0)  # doctest: +ELLIPSIS
    The search space is exhausted after 4 trials...
    >>> seen[:2]
    [{'optimizer': 'adam', 'layers': 1}, {'optimizer': 'adam', 'layers': 2}]
    """

    # The grid's order never depends on results.
    learns_from_results = False

    def sample_new(self, hp: HyperParameter, trial: Trial) -> Any:
        return hp.default

    def populate_space(self, trial: Trial) -> Any:
        """The successor of a finished trial whose successor has not been taken yet (the
        oldest first); else, to keep workers busy, that of a running trial, taken early;
        `WAIT` while running trials may still register new hyperparameters; None when the
        grid is done.

        A successor is computed once, over the space as it is then: that is what keeps a
        hyperparameter registered later from being varied under trials that ran before it
        existed. The store keeps which trials still owe theirs ("pending"), so a resumed
        search, or another process, goes on where the grid stands; reading only those
        trials keeps an ask as cheap on the 1000th trial as on the first.
        """
        trial = self._trial_for(trial)  # a plain id string too (KerasTuner's contract)
        storage = self.study.storage
        state = storage.get_meta(_META_KEY) or {"known": 0, "pending": [], "early": []}
        known, pending, early = state["known"], list(state["pending"]), set(state["early"])
        started = state.get("started", False)
        number = trial.number or 0
        if known < number:
            # Trials this oracle did not propose (enqueued ones, a project of an older
            # version): they owe their successors too.
            pending += [t.trial_id for t in storage.get_trials() if t.number >= known]
            known = number
        proposal = None
        if not started:  # the first proposal: every default (unless enqueued already)
            started = True
            defaults = default_values(self.hyperparameters)
            proposal = None if defaults and self.tried(defaults) else defaults
        remaining, unfinished = [], []
        for trial_id in pending:
            record = storage.get_trial(trial_id)
            if record is None:
                continue
            if record.status in _UNFINISHED:
                unfinished.append(record)
            elif proposal is None:
                proposal = self._untried_successor(record.values)
                continue  # its successor is taken (or there is none)
            remaining.append(trial_id)
        if proposal is None:
            # KerasTuner also takes the first trial's successor while it runs.
            for record in unfinished:
                if record.trial_id not in early:
                    early.add(record.trial_id)
                    proposal = self._untried_successor(record.values)
                    if proposal is not None:
                        break
        if proposal is not None:
            remaining.append(trial.trial_id)
            known = number + 1
        state = {
            "started": started,
            "known": known,
            "pending": remaining,
            "early": sorted(early & set(remaining)),
        }
        storage.set_meta(_META_KEY, state)
        if proposal is not None:
            return proposal
        return WAIT if unfinished else None

    def _orders(self, hp: HyperParameter) -> tuple[list[Any], dict[Any, int]]:
        """`grid_order(hp)` and the positions in it, computed once per hyperparameter."""
        cache = self.__dict__.setdefault("_order_cache", {})
        cached = cache.get(hp.name)
        if cached is None or cached[0] is not hp:
            order = grid_order(hp)
            cached = cache[hp.name] = (hp, order, _positions(order))
        return cached[1], cached[2]

    def _untried_successor(self, values: dict[str, Any]) -> dict[str, Any] | None:
        proposal = next_combination(self.hyperparameters, values, self._orders)
        if proposal is None or self.tried(proposal):
            return None
        return proposal
