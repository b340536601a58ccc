"""Hyperparameter importance from a numpy random forest fitted to the trials."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tunelab as kt
from tunelab.importance import RandomForest, hyperparameter_importance

from .conftest import quadratic


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> kt.RandomSearch:
    tuner = kt.RandomSearch(
        quadratic,
        objective="loss",
        max_trials=40,
        seed=0,
        directory=tmp_path_factory.mktemp("importance"),
        project_name="quad",
    )
    tuner.search(verbose=0)
    return tuner


@pytest.mark.parametrize("method", ["fanova", "permutation"])
def test_the_hyperparameter_that_drives_the_score_ranks_first(
    search: kt.RandomSearch, method: str
) -> None:
    importance = hyperparameter_importance(search, method=method)
    assert list(importance)[0] == "x"
    assert set(importance) == {"x", "units", "activation"}
    assert sum(importance.values()) == pytest.approx(1.0)
    assert importance["x"] > 0.85
    assert importance["activation"] < 0.05  # the score does not depend on it at all


def test_same_seed_same_importances(search: kt.RandomSearch) -> None:
    assert hyperparameter_importance(search, seed=4) == hyperparameter_importance(search, seed=4)


def test_reads_a_project_path(search: kt.RandomSearch) -> None:
    from_path = hyperparameter_importance(search.project_dir)
    assert from_path == hyperparameter_importance(search)


def test_forest_fits_a_step_and_a_line() -> None:
    X = np.random.default_rng(0).uniform(size=(200, 2))
    y = np.where(X[:, 0] > 0.3, 2.0, -1.0) + 0.0 * X[:, 1]
    forest = RandomForest(n_trees=16, seed=1).fit(X, y)
    assert forest.predict(np.array([[0.1, 0.5], [0.9, 0.5]])).tolist() == pytest.approx(
        [-1.0, 2.0], abs=0.05
    )
    line = RandomForest(n_trees=32, seed=1).fit(X, 3 * X[:, 1])
    assert np.abs(line.predict(X) - 3 * X[:, 1]).mean() < 0.1


def test_too_few_trials_and_bad_arguments(tmp_path: Path, search: kt.RandomSearch) -> None:
    tuner = kt.RandomSearch(
        quadratic, objective="loss", max_trials=2, directory=tmp_path, project_name="few"
    )
    tuner.search(verbose=0)
    with pytest.raises(ValueError, match="at least 3 finished trials.*has 2"):
        hyperparameter_importance(tuner)
    with pytest.raises(ValueError, match="method='shap'; expected one of"):
        hyperparameter_importance(search, method="shap")
    with pytest.raises(ValueError, match="n_trees=0; expected an int >= 1"):
        hyperparameter_importance(search, n_trees=0)
