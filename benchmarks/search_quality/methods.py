"""The methods of the search-quality benchmark, each driven through its own ask/tell API.

`run_method(method, problem, seed, budget)` returns the objective value of every trial in the
order they ran; the runner turns that into best-so-far curves. Each adapter builds the
library's own search space from the problem's `Param` list (conditional scopes included).

Methods whose behaviour does not depend on the announced trial budget (random search,
KerasTuner's Bayesian oracle, Optuna's samplers) are run once at the largest budget and read
at the smaller ones as a prefix; tunelab's Bayesian oracle sizes its initial design from
`max_trials`, so it runs once per budget.
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from collections.abc import Callable
from typing import Any

from problems import Param, Problem

METHODS = ("tunelab_random", "tunelab_bayesian", "kerastuner_bayesian", "optuna_tpe", "optuna_gp")
PREFIX_SAFE = {"tunelab_random", "kerastuner_bayesian", "optuna_tpe", "optuna_gp"}


def _active(param: Param, values: dict[str, Any]) -> bool:
    return param.when is None or values.get(param.when[0]) in param.when[1]


def _define_space(hp: Any, params: list[Param]) -> Any:
    """Declare `params` on `hp`: a tunelab or a KerasTuner HyperParameters (same API)."""

    def define(p: Param) -> None:
        if p.kind == "choice":
            hp.Choice(p.name, list(p.choices))
        elif p.kind == "int":
            hp.Int(p.name, int(p.low), int(p.high), sampling="log" if p.log else "linear")
        else:
            hp.Float(p.name, p.low, p.high, sampling="log" if p.log else "linear")

    for p in params:
        if p.when is None:
            define(p)
        else:
            with hp.conditional_scope(p.when[0], list(p.when[1])):
                define(p)
    return hp


# -- tunelab ------------------------------------------------------------------------------
def _tunelab_space(params: list[Param]) -> Any:
    import tunelab as kt

    return _define_space(kt.HyperParameters(), params)


def _run_tunelab(
    oracle_cls: Any, problem: Problem, seed: int, budget: int, workers: int = 1
) -> list[float]:
    """The values of one search's trials, in trial order. With ``workers > 1`` that many
    trials are in flight and the oldest is told first: trial m is asked knowing trials 0 to
    m - workers, as in a seeded search with that many workers (parallel_bayesian.py)."""
    import tunelab as kt

    with tempfile.TemporaryDirectory() as directory:
        oracle = oracle_cls(
            objective=kt.Objective("loss", "min"),
            max_trials=budget,
            seed=seed,
            hyperparameters=_tunelab_space(problem.params),
            directory=directory,
            project_name="bench",
        )
        out = []
        flight: deque[Any] = deque()
        while True:
            while len(flight) < workers and (trial := oracle.ask()) is not None:
                flight.append(trial)
            if not flight:
                return out
            trial = flight.popleft()
            hp = trial.hyperparameters
            value = problem.evaluate(
                {p.name: hp.get(p.name) for p in problem.params if hp.is_active(p.name)}
            )
            oracle.tell(trial, value)
            out.append(value)


# -- KerasTuner ---------------------------------------------------------------------------
def _run_kerastuner(problem: Problem, seed: int, budget: int) -> list[float]:
    import keras_tuner

    hp = _define_space(keras_tuner.HyperParameters(), problem.params)
    oracle = keras_tuner.oracles.BayesianOptimizationOracle(
        objective=keras_tuner.Objective("loss", "min"),
        max_trials=budget,
        hyperparameters=hp,
        seed=seed,
    )
    oracle.verbose = 0  # its console display is the tuner's job, not measured here
    out = []
    with tempfile.TemporaryDirectory() as directory:
        oracle._set_project_dir(directory, "bench")  # what a KerasTuner tuner does first
        for _ in range(budget):
            trial = oracle.create_trial("bench")
            if trial.status == "STOPPED":
                break
            values = {
                p.name: trial.hyperparameters.get(p.name)
                for p in problem.params
                if trial.hyperparameters.is_active(p.name)
            }
            value = problem.evaluate(values)
            oracle.update_trial(trial.trial_id, {"loss": value})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            out.append(value)
    return out


# -- Optuna -------------------------------------------------------------------------------
def _run_optuna(sampler_name: str, problem: Problem, seed: int, budget: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_name == "gp":
        import torch

        torch.set_num_threads(1)  # the machine is shared; the GP is small anyway
        sampler: Any = optuna.samplers.GPSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    out = []

    def objective(trial: Any) -> float:
        values: dict[str, Any] = {}
        for p in problem.params:
            if not _active(p, values):
                continue
            if p.kind == "choice":
                values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.kind == "int":
                values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        value = problem.evaluate(values)
        out.append(value)
        return value

    study.optimize(objective, n_trials=budget)
    return out


def runner(method: str) -> Callable[[Problem, int, int], list[float]]:
    """The function that runs `method`: ``fn(problem, seed, budget) -> values``."""
    if method == "tunelab_random":
        import tunelab as kt

        return lambda p, s, b: _run_tunelab(kt.oracles.RandomSearchOracle, p, s, b)
    if method == "tunelab_bayesian":
        import tunelab as kt

        return lambda p, s, b: _run_tunelab(kt.oracles.BayesianOptimizationOracle, p, s, b)
    if method == "kerastuner_bayesian":
        return _run_kerastuner
    if method == "optuna_tpe":
        return lambda p, s, b: _run_optuna("tpe", p, s, b)
    if method == "optuna_gp":
        return lambda p, s, b: _run_optuna("gp", p, s, b)
    raise ValueError(f"method={method!r}; expected one of {METHODS}")


def best_so_far(values: list[float]) -> list[float]:
    out, best = [], math.inf
    for v in values:
        best = min(best, v)
        out.append(best)
    return out
