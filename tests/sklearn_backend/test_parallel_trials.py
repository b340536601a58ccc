"""SklearnTuner's batched parallel trials (n_jobs > 1 with random or grid search): a batch
never holds a duplicate, respects max_trials, loses no trial when one fails or the search
is stopped, and grid search covers its grid exactly once across several batches."""

from __future__ import annotations

import itertools

import joblib
import pytest
from sklearn import datasets
from sklearn.tree import DecisionTreeClassifier

import tunelab as kt
import tunelab_sklearn.parallel_trials as parallel_trials
from tunelab.trial import TrialStatus
from tunelab_sklearn import SklearnTuner

X, Y = datasets.load_iris(return_X_y=True)
DEPTHS = list(range(1, 8))
CRITERIA = ["gini", "entropy", "log_loss"]


def grid_tree(hp):
    return DecisionTreeClassifier(
        criterion=hp.Choice("criterion", CRITERIA),
        max_depth=hp.Int("max_depth", DEPTHS[0], DEPTHS[-1]),
        random_state=0,
    )


@pytest.fixture
def batch_sizes(monkeypatch):
    """The number of trials in each joblib call of the batched search."""
    sizes: list[int] = []
    real = parallel_trials.cross_validate_each

    def spy(jobs, *args, **kwargs):
        sizes.append(len(jobs))
        return real(jobs, *args, **kwargs)

    monkeypatch.setattr(parallel_trials, "cross_validate_each", spy)
    return sizes


def run(tuner):
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        tuner.search(X, Y, verbose=0)


def values_of(tuner, status=None):
    return [
        (t.hyperparameters.get("criterion"), t.hyperparameters.get("max_depth"))
        for t in tuner.oracle.trials.values()
        if status is None or t.status == status
    ]


def test_grid_search_in_batches_covers_a_grid_larger_than_a_batch_exactly_once(
    tmp_path, batch_sizes
):
    tuner = SklearnTuner(
        kt.oracles.GridSearchOracle(), grid_tree, cv=3, n_jobs=2, directory=tmp_path,
        project_name="grid",
    )  # fmt: skip
    run(tuner)
    grid = list(itertools.product(CRITERIA, DEPTHS))  # 21 configurations
    tried = values_of(tuner, TrialStatus.COMPLETED)
    assert sorted(tried) == sorted(grid)  # each once, none missing
    assert len(tuner.oracle.trials) == len(grid)
    # Batches of 16 (8 per worker) for an oracle that does not learn from results (the
    # define-by-run space is found first by building the hypermodel with defaults).
    assert batch_sizes == [16, 5]


def test_random_search_batches_hold_no_duplicate_and_stop_at_max_trials(tmp_path, batch_sizes):
    def small(hp):  # 6 configurations, fewer than a batch
        return DecisionTreeClassifier(
            max_depth=hp.Int("max_depth", 1, 3),
            splitter=hp.Choice("splitter", ["best", "random"]),
            random_state=0,
        )

    tuner = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=20, seed=3), small, cv=3, n_jobs=2,
        directory=tmp_path, project_name="random",
    )  # fmt: skip
    run(tuner)
    tried = [(t.hyperparameters.values["max_depth"], t.hyperparameters.values["splitter"])
             for t in tuner.oracle.trials.values()]  # fmt: skip
    assert len(tried) == len(set(tried)) == 6  # the whole space, no duplicate
    assert sum(batch_sizes) == 6

    capped = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=4, seed=3), grid_tree, cv=3, n_jobs=2,
        directory=tmp_path, project_name="capped",
    )  # fmt: skip
    run(capped)
    assert len(capped.oracle.trials) == 4
    assert len(set(values_of(capped))) == 4


def test_a_failing_fit_in_a_batch_fails_that_trial_only_and_is_retried(tmp_path, batch_sizes):
    def sometimes_bad(hp):
        depth = hp.Int("max_depth", 1, 6)
        # A criterion scikit-learn rejects when fitting: every fold of this trial fails.
        return DecisionTreeClassifier(
            max_depth=depth, criterion="bogus" if depth == 3 else "gini", random_state=0
        )

    tuner = SklearnTuner(
        kt.oracles.GridSearchOracle(max_retries_per_trial=1), sometimes_bad, cv=3, n_jobs=2,
        directory=tmp_path, project_name="fails",
    )  # fmt: skip
    run(tuner)
    by_depth = {t.hyperparameters.get("max_depth"): t for t in tuner.oracle.trials.values()}
    assert sorted(by_depth) == [1, 2, 3, 4, 5, 6]  # one trial per grid point, none lost
    assert by_depth[3].status == TrialStatus.FAILED
    assert "bogus" in by_depth[3].message
    assert by_depth[3].retries == 1  # retried once, in a later batch
    assert all(t.status == TrialStatus.COMPLETED for d, t in by_depth.items() if d != 3)
    assert sum(batch_sizes) == 7  # 6 grid points + the retry


def test_a_search_stopped_mid_batch_loses_no_trial(tmp_path):
    stop = {"at": 5}

    def build(hp):
        depth = hp.Int("max_depth", DEPTHS[0], DEPTHS[-1])
        criterion = hp.Choice("criterion", CRITERIA)
        if stop["at"] is not None and depth == stop["at"] and criterion == "entropy":
            raise KeyboardInterrupt  # the user stops the search while a batch is built
        return DecisionTreeClassifier(max_depth=depth, criterion=criterion, random_state=0)

    tuner = SklearnTuner(
        kt.oracles.GridSearchOracle(), build, cv=3, n_jobs=2, directory=tmp_path,
        project_name="stopped",
    )  # fmt: skip
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        run(tuner)
    statuses = {t.status for t in tuner.oracle.trials.values()}
    assert TrialStatus.RUNNING not in statuses  # the batch's trials went back to the oracle
    assert TrialStatus.IDLE in statuses
    stop["at"] = None
    run(tuner)
    tried = values_of(tuner, TrialStatus.COMPLETED)
    assert sorted(tried) == sorted(itertools.product(CRITERIA, DEPTHS))
    assert len(tuner.oracle.trials) == len(CRITERIA) * len(DEPTHS)


def test_each_trial_of_a_batch_is_saved_as_soon_as_its_folds_are_in(tmp_path, batch_sizes):
    seen = []  # for each trial as it ends: how many of the project's trials are stored done

    class Watching(SklearnTuner):
        def on_trial_end(self, trial):
            stored = kt.oracles.GridSearchOracle(
                objective=kt.Objective("score", "max"), directory=tmp_path, project_name="each"
            ).trials
            seen.append(
                (
                    stored[trial.trial_id].status,
                    sum(t.status == TrialStatus.COMPLETED for t in stored.values()),
                    sum(t.status == TrialStatus.RUNNING for t in stored.values()),
                )
            )

    tuner = Watching(
        kt.oracles.GridSearchOracle(), grid_tree, cv=3, n_jobs=2, directory=tmp_path,
        project_name="each",
    )  # fmt: skip
    run(tuner)
    assert batch_sizes == [16, 5]
    # The first trial is in the store (read by another oracle) while the other 15 of its
    # batch still run; the batch's last trial ends with the batch.
    assert seen[0] == (TrialStatus.COMPLETED, 1, 15)
    assert seen[15] == (TrialStatus.COMPLETED, 16, 0)
    assert [done for _, done, _ in seen] == list(range(1, 22))
