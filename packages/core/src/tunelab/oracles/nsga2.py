"""NSGA-II: an evolutionary multi-objective search whose population is read from the store.

The population is not kept in memory: at every suggestion it is the `population_size`
best completed trials, ranked by constraint feasibility, non-domination and crowding
distance (`tunelab.pareto.rank_order`), which is NSGA-II's elitist survival applied one
child at a time (a steady-state NSGA-II). Two parents are picked by binary tournaments on
that ranking; the child is made by simulated binary crossover and polynomial mutation on
the unit-cube encoding (unordered choices: uniform crossover and random reset). Since
everything comes from the store and the trial's own random stream, a search resumes after
a kill and several processes (the process pool, Dask) share one population.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from tunelab.checks import check_int, check_number
from tunelab.hyperparameters import Fixed, HyperParameter
from tunelab.oracles.base import Oracle
from tunelab.oracles.bayesian import _is_categorical
from tunelab.trial import Trial

__all__ = ["NSGA2Oracle"]


class NSGA2Oracle(Oracle):
    """NSGA-II-style evolutionary search for the Pareto front of several objectives.

    The first `population_size` trials spread over the space (`initial_design`); each
    later trial is a child of two parents chosen by tournament among the best
    `population_size` completed trials (feasible first, then by non-domination rank, then
    by crowding distance). Suggestions cost a few milliseconds whatever the budget: the
    oracle for large budgets and cheap trials (see `ParEGOOracle` for small budgets).

    Parameters
    ----------
    objective : list of Objective
        The objectives to trade off.
    max_trials : int
    population_size : int
        How many of the best trials breed (and how many random trials start the search).
    crossover_probability : float
        Chance that a child mixes its two parents (else it copies the first, then mutates).
    mutation_probability : float, optional
        Chance that each coordinate mutates (default ``1 / number of hyperparameters``).
    crossover_eta, mutation_eta : float
        Distribution indices of the crossover and the mutation: larger keeps children
        closer to their parents.
    constraints : dict, optional
        ``{metric name: upper bound}``; infeasible trials lose every tournament against
        feasible ones.
    **kwargs
        Those of `kt.oracles.Oracle` (`seed`, `hyperparameters`, `initial_design`, ...).

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = kt.oracles.NSGA2Oracle(
    ...     objective=[kt.Objective("f1", "min"), kt.Objective("f2", "min")],
    ...     max_trials=30, population_size=10, seed=0)
    >>> while (trial := oracle.ask()) is not None:
    ...     x = trial.hyperparameters.Float("x", 0.0, 1.0)
    ...     y = trial.hyperparameters.Float("y", 0.0, 1.0)
    ...     _ = oracle.tell(trial, {"f1": x, "f2": 1.0 - x + y})
    >>> front = oracle.get_pareto_front()  # best spread first
    >>> sorted(t.metrics.get_last_value("f1") for t in front)[0] < 0.05
    True
    """

    pareto_by_nature = True
    default_initial_design = "sobol"

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 100,
        population_size: int = 20,
        crossover_probability: float = 0.9,
        mutation_probability: float | None = None,
        crossover_eta: float = 15.0,
        mutation_eta: float = 20.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self.population_size = check_int("population_size", population_size, 2)
        self.crossover_probability = _probability("crossover_probability", crossover_probability)
        self.mutation_probability = (
            None
            if mutation_probability is None
            else _probability("mutation_probability", mutation_probability)
        )
        self.crossover_eta = float(check_number("crossover_eta", crossover_eta, 0))
        self.mutation_eta = float(check_number("mutation_eta", mutation_eta, 0))
        if self.num_initial_points is None:
            self.num_initial_points = self.population_size

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        trial = self._trial_for(trial_id)
        space = self.hyperparameters.space
        number = trial.number or 0
        if not space or number < self.population_size:
            return self._fresh(trial)
        ranking = self.pareto_ranking()
        if len(ranking.trials) < 2:
            return self._fresh(trial)
        parents = ranking.order[: self.population_size]
        rng = self.rng(trial)
        for _ in range(self._max_collisions):
            first, second = (
                ranking.trials[self._tournament(parents, rng)],
                ranking.trials[self._tournament(parents, rng)],
            )
            unit = self._child(
                self._encode(first.values, rng), self._encode(second.values, rng), rng
            )
            values = self.random_values(trial, unit)
            if not self.tried(values):
                return self._response(values)
        return self._response(self.random_values(trial))

    def _fresh(self, trial: Trial) -> dict[str, Any]:
        values = self.random_values(trial, self.design_point(trial))
        if values and self.tried(values):
            values = self.random_values(trial)
        return self._response(values)

    @staticmethod
    def _tournament(parents: np.ndarray, rng: np.random.Generator) -> int:
        """The better-ranked of two members drawn at random (`parents` is best first)."""
        a, b = rng.integers(len(parents), size=2)
        return int(parents[min(a, b)])

    def _encode(self, values: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
        """A trial's values on the unit cube, space order; inactive or unknown
        hyperparameters get a random coordinate (they may become active in the child)."""
        point = rng.random(len(self.hyperparameters.space))
        for index, hp in enumerate(self.hyperparameters.space):
            if hp.name in values and not isinstance(hp, Fixed):
                with contextlib.suppress(ValueError):  # a value of an older definition
                    point[index] = hp.to_unit(hp.validate(values[hp.name]))
        return point

    def _child(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        space: list[HyperParameter] = self.hyperparameters.space
        categorical = np.array([_is_categorical(hp) for hp in space], dtype=bool)
        child = a.copy()
        if rng.random() < self.crossover_probability:
            child = _simulated_binary_crossover(a, b, self.crossover_eta, rng)
            swap = rng.random(len(a)) < 0.5
            child[categorical] = np.where(swap, b, a)[categorical]
        tunable = sum(not isinstance(hp, Fixed) for hp in space) or 1
        rate = self.mutation_probability or 1.0 / tunable
        mutate = rng.random(len(a)) < rate
        mutated = _polynomial_mutation(child, self.mutation_eta, rng)
        reset = rng.random(len(a))
        child = np.where(mutate, np.where(categorical, reset, mutated), child)
        return np.clip(child, 0.0, 1.0)


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name}={value!r}; expected a probability between 0 and 1")
    return float(value)


def _simulated_binary_crossover(
    a: np.ndarray, b: np.ndarray, eta: float, rng: np.random.Generator
) -> np.ndarray:
    """One child of SBX (Deb & Agrawal 1995): per coordinate, with probability 1/2, a point
    spread around the parents' mean as far as the parents are apart, more often close for a
    large `eta`; bounded to [0, 1]."""
    u = rng.random(len(a))
    beta = np.where(
        u <= 0.5,
        (2.0 * u) ** (1.0 / (eta + 1.0)),
        (1.0 / (2.0 * (1.0 - u) + 1e-12)) ** (1.0 / (eta + 1.0)),
    )
    sign = np.where(rng.random(len(a)) < 0.5, -1.0, 1.0)
    child = 0.5 * (a + b) + sign * 0.5 * beta * np.abs(a - b)
    crossed = rng.random(len(a)) < 0.5
    return np.clip(np.where(crossed, child, a), 0.0, 1.0)


def _polynomial_mutation(x: np.ndarray, eta: float, rng: np.random.Generator) -> np.ndarray:
    """Every coordinate moved by Deb's polynomial mutation within [0, 1] (the caller picks
    which coordinates take it)."""
    u = rng.random(len(x))
    power = 1.0 / (eta + 1.0)
    low = (2.0 * u + (1.0 - 2.0 * u) * (1.0 - x) ** (eta + 1.0)) ** power - 1.0
    high = 1.0 - (2.0 * (1.0 - u) + 2.0 * (u - 0.5) * x ** (eta + 1.0)) ** power
    return np.clip(x + np.where(u < 0.5, low, high), 0.0, 1.0)
