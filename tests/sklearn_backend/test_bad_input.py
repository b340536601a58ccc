"""Bad input stops a search before anything is fitted, with every tuner: the plain core
tuners (through `Backend.validate_search`) and `SklearnTuner` (which checks in `search`).

Each case asserts the error, that no estimator was fitted, that no trial was recorded as
finished, and that the corrected search then runs its full number of trials."""

from __future__ import annotations

import joblib
import pytest
from sklearn import datasets
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

import tunelab as kt
from tunelab.trial import TrialStatus
from tunelab_sklearn import SklearnTuner

MAX_TRIALS = 3
FITS: list[int] = []


class CountingTree(DecisionTreeClassifier):
    """A decision tree that counts its fits (to prove that nothing was fitted)."""

    def fit(self, X, y, sample_weight=None, check_input=True):
        FITS.append(len(X))
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


def tree(hp):
    return CountingTree(max_depth=hp.Int("max_depth", 1, 20), random_state=0)


def not_an_estimator(hp):
    hp.Int("max_depth", 1, 4)
    return "a tree, one day"


def make_tuner(kind, hypermodel, path, **backend):
    location = {"directory": path, "project_name": kind, "overwrite": True}
    if kind == "sklearn":
        oracle = kt.oracles.RandomSearchOracle(max_trials=MAX_TRIALS, seed=0)
        return SklearnTuner(oracle, hypermodel, **location, **backend)
    if kind == "sklearn_batched":  # n_jobs=2: trials cross-validated in batches
        oracle = kt.oracles.RandomSearchOracle(max_trials=MAX_TRIALS, seed=0)
        return SklearnTuner(oracle, hypermodel, n_jobs=2, **location, **backend)
    if kind == "hyperband":
        return kt.Hyperband(
            hypermodel, objective="score", max_epochs=3, factor=3, seed=0,
            resource="n_samples", **location, **backend,
        )  # fmt: skip
    tuner_class = {
        "random": kt.RandomSearch,
        "bayesian": kt.BayesianOptimization,
        "grid": kt.GridSearch,
    }[kind]
    return tuner_class(
        hypermodel, objective="score", max_trials=MAX_TRIALS, seed=0, **location, **backend
    )


KINDS = ["random", "bayesian", "grid", "hyperband", "sklearn", "sklearn_batched"]
X, Y = datasets.load_iris(return_X_y=True)


def finished(tuner):
    return [t for t in tuner.oracle.trials.values() if t.status in TrialStatus.FINISHED]


def search(tuner, X, y):
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        tuner.search(X, y, verbose=0)


def check_stopped_before_any_fit(tuner, error, message, X, y):
    FITS.clear()
    with pytest.raises(error, match=message):
        search(tuner, X, y)
    assert FITS == []
    assert finished(tuner) == []


def check_corrected_search_completes(tuner):
    search(tuner, X, Y)
    done = finished(tuner)
    assert done and all(t.status == TrialStatus.COMPLETED for t in done)
    if not isinstance(tuner, kt.Hyperband):
        assert len(done) == MAX_TRIALS  # the released trial ran; none was lost or added


@pytest.mark.parametrize("kind", KINDS)
def test_mismatched_lengths_stop_the_search_before_any_fit(kind, tmp_path):
    tuner = make_tuner(kind, tree, tmp_path, cv=3)
    check_stopped_before_any_fit(
        tuner, ValueError, "y has 149 entries but X has 150 samples", X, Y[:-1]
    )
    check_corrected_search_completes(tuner)


@pytest.mark.parametrize("kind", KINDS)
def test_more_stratified_folds_than_a_class_has_samples(kind, tmp_path):
    tuner = make_tuner(kind, tree, tmp_path, cv=StratifiedKFold(5))
    # The first 54 iris rows: 50 of class 0 and 4 of class 1.
    check_stopped_before_any_fit(
        tuner, ValueError, "5 stratified folds, but class 1 has only 4 sample", X[:54], Y[:54]
    )
    check_corrected_search_completes(tuner)


@pytest.mark.parametrize("kind", ["random", "bayesian", "grid", "hyperband"])
def test_unknown_scorer_name_stops_a_plain_tuner_before_any_fit(kind, tmp_path):
    # The core tuner cannot tell which backend `scoring` is for until the first model is
    # built; the sklearn backend then rejects it before fitting anything.
    tuner = make_tuner(kind, tree, tmp_path, scoring="acuracy")
    check_stopped_before_any_fit(
        tuner, ValueError, "scoring='acuracy' is not a scikit-learn scorer", X, Y
    )


@pytest.mark.parametrize("kind", ["sklearn", "sklearn_batched"])
def test_unknown_scorer_name_fails_the_sklearn_tuner_at_construction(kind, tmp_path):
    with pytest.raises(ValueError, match="scoring='acuracy' is not a scikit-learn scorer"):
        make_tuner(kind, tree, tmp_path, scoring="acuracy")


@pytest.mark.parametrize("kind", KINDS)
def test_a_hypermodel_that_returns_no_estimator_stops_at_once(kind, tmp_path):
    tuner = make_tuner(kind, not_an_estimator, tmp_path, cv=3)
    message = "(no installed backend can train|needs a scikit-learn estimator)"
    check_stopped_before_any_fit(tuner, TypeError, message, X, Y)
    # Not a string of FAILED trials: the one trial asked went back to the oracle.
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses in ([], [TrialStatus.IDLE])


def test_the_error_is_a_search_setup_error_for_code_that_catches_tunelab_errors(tmp_path):
    tuner = make_tuner("random", tree, tmp_path, cv=3)
    with pytest.raises(kt.errors.SearchSetupError):
        search(tuner, X, Y[:-1])
    with pytest.raises(kt.errors.NotAModelError):
        search(make_tuner("bayesian", not_an_estimator, tmp_path / "other", cv=3), X, Y)


def test_each_search_checks_its_own_data(tmp_path):
    # Good data first, then bad data in a second search of the same tuner (its backend is
    # already bound): the second search is checked too.
    tuner = kt.RandomSearch(
        tree, objective="score", max_trials=2, seed=0, directory=tmp_path, project_name="again",
        cv=3,
    )  # fmt: skip
    search(tuner, X, Y)
    tuner.oracle.max_trials = 4
    check_stopped_before_any_fit_after(tuner, X[:10], Y)
    search(tuner, X, Y)
    assert len(finished(tuner)) == 4


def check_stopped_before_any_fit_after(tuner, X_bad, y_bad):
    before = len(finished(tuner))
    FITS.clear()
    with pytest.raises(ValueError, match="y has 150 entries but X has 10"):
        search(tuner, X_bad, y_bad)
    assert FITS == [] and len(finished(tuner)) == before


def test_a_plain_function_objective_is_not_built_an_extra_time(tmp_path):
    # No probe build: for a function objective the build is the trial.
    calls = []

    def objective(hp, data):
        calls.append(hp.Float("x", -1.0, 1.0))
        return sum(data) * calls[-1] ** 2

    tuner = kt.RandomSearch(
        objective, objective="loss", max_trials=4, seed=0, directory=tmp_path,
        project_name="fn",
    )  # fmt: skip
    tuner.search([1.0, 2.0], verbose=0)
    assert len(calls) == 4
    assert sorted(t.score for t in finished(tuner)) == sorted(3.0 * x**2 for x in calls)


@pytest.mark.slow
def test_bad_input_stops_a_search_on_a_process_pool_before_any_fit(tmp_path):
    # The check runs in the worker that builds the first model; the driver then puts the
    # trial back as the inline loop does, and raises.
    tuner = kt.RandomSearch(
        tree, objective="score", max_trials=MAX_TRIALS, seed=0, directory=tmp_path,
        project_name="pool", cv=3, executor="process", max_parallel_trials=2,
    )  # fmt: skip
    with pytest.raises(kt.errors.SearchSetupError, match="y has 149 entries but X has 150"):
        tuner.search(X, Y[:-1], verbose=0)
    assert finished(tuner) == []
    assert {t.status for t in tuner.oracle.trials.values()} == {TrialStatus.IDLE}
    tuner.search(X, Y, verbose=0)
    assert len(finished(tuner)) == MAX_TRIALS


def test_a_bad_count_of_best_models_names_num_models(tmp_path):
    # SklearnTuner.get_best_models(num_models=0) said "num_trials=0".
    def plain_tree(hp):
        return DecisionTreeClassifier(max_depth=hp.Int("max_depth", 1, 20), random_state=0)

    X, y = datasets.load_iris(return_X_y=True)
    tuner = make_tuner("sklearn", plain_tree, tmp_path, cv=3)
    tuner.search(X, y, verbose=0)
    with pytest.raises(ValueError, match=r"^num_models=0; expected an int >= 1$"):
        tuner.get_best_models(num_models=0)
    assert tuner.get_best_models(num_models=1)[0].get_params()["max_depth"] in range(1, 21)
