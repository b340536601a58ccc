"""The oracle of a `TuneSearchCV` fit, from its ``oracle``, ``n_trials``, ``random_state``
and project arguments."""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
from sklearn.utils.validation import check_random_state

import tunelab.oracles
from tunelab.objective import DEFAULT_OBJECTIVE, Objective
from tunelab.oracles.base import Oracle
from tunelab_sklearn.search_space import SearchSpace

__all__ = ["hyperband_max_epochs", "make_oracle"]

HYPERBAND_FACTOR = 3


def hyperband_max_epochs(n_trials: int | None, factor: int) -> int:
    """The largest max_epochs (a power of `factor`, at least `factor`) whose Hyperband
    iteration runs at most `n_trials` trials, so that oracle="hyperband" spends about
    n_trials trials.

    >>> hyperband_max_epochs(10, 3), hyperband_max_epochs(30, 3)
    (3, 9)
    """
    from tunelab.oracles.hyperband import hyperband_brackets

    epochs = factor
    while sum(n for b in hyperband_brackets(epochs * factor, factor) for n, _ in b) <= (
        n_trials or 0
    ):
        epochs *= factor
    return epochs


# Oracle names -> the class in tunelab.oracles (looked up when used: some may not exist yet).
_ORACLES = {
    "random": "RandomSearchOracle",
    "grid": "GridSearchOracle",
    "bayesian": "BayesianOptimizationOracle",
    "hyperband": "HyperbandOracle",
}


def make_oracle(
    search: Any, space: SearchSpace, objective: str, n_trials: int | None, spec: Any
) -> Oracle:
    """The oracle of one `TuneSearchCV.fit`: named by `spec`, or the user's (`spec`, an
    Oracle: copied unless it has its own project store), maximizing `objective` over
    `space` with at most `n_trials` trials."""
    project: dict[str, Any] = {}
    storage = getattr(search, "storage", None)
    if search.directory is not None or search.project_name is not None or storage is not None:
        project = {"directory": search.directory, "project_name": search.project_name}
        if storage is not None:
            project["storage"] = storage
    if isinstance(spec, Oracle):
        if spec.store is not None:
            if project:
                raise ValueError(
                    "oracle already has a project store: give directory "
                    "and project_name to the oracle or to TuneSearchCV, "
                    "not both"
                )
            oracle = spec
        elif project:
            raise ValueError(
                "with an Oracle instance, give directory and project_name to the oracle itself"
            )
        else:
            oracle = copy.deepcopy(spec)  # each fit starts afresh
        if oracle.objective.name == DEFAULT_OBJECTIVE:
            oracle.objective = Objective(objective, "max")
        elif oracle.objective.name != objective:
            raise ValueError(
                f"oracle: its objective {oracle.objective!r} is not the "
                f"refit scorer's mean test score; use Objective("
                f"{objective!r}, 'max') or leave it unset"
            )
        if not isinstance(oracle, tunelab.oracles.HyperbandOracle):
            oracle.max_trials = n_trials  # Hyperband's follows from its brackets
        oracle.update_space(space.hyperparameters)
        return oracle
    name = spec if isinstance(spec, str) else None
    if name not in _ORACLES:
        raise ValueError(
            f"oracle={spec!r}; expected one of {sorted(_ORACLES)} or a kt.oracles.Oracle instance"
        )
    cls = getattr(tunelab.oracles, _ORACLES[name])
    seed = search.random_state
    if seed is not None and not isinstance(seed, numbers.Integral):
        seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
    if name == "hyperband":
        return cls(
            objective=Objective(objective, "max"),
            seed=seed,
            max_epochs=hyperband_max_epochs(n_trials, HYPERBAND_FACTOR),
            factor=HYPERBAND_FACTOR,
            hyperparameters=space.hyperparameters,
            **project,
        )
    return cls(
        objective=Objective(objective, "max"),
        max_trials=n_trials,
        hyperparameters=space.hyperparameters,
        seed=seed,
        **project,
    )
