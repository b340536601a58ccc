"""kt.tuners.Sklearn: KerasTuner's Sklearn tuner, cross-validated, refit, saved with skops."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn import datasets, linear_model, metrics, model_selection
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tunelab as kt
from tunelab_sklearn import SklearnTuner

# Seed 002's example for the Sklearn tuner (KerasTuner's API reference), as users run it,
# with the one change they make: the import.
SEED_002_EXAMPLE = """
import tunelab as kt
from sklearn import ensemble
from sklearn import datasets
from sklearn import linear_model
from sklearn import metrics
from sklearn import model_selection

def build_model(hp):
  model_type = hp.Choice('model_type', ['random_forest', 'ridge'])
  if model_type == 'random_forest':
    model = ensemble.RandomForestClassifier(
        n_estimators=hp.Int('n_estimators', 10, 50, step=10),
        max_depth=hp.Int('max_depth', 3, 10))
  else:
    model = linear_model.RidgeClassifier(
        alpha=hp.Float('alpha', 1e-3, 1, sampling='log'))
  return model

tuner = kt.tuners.Sklearn(
    oracle=kt.oracles.BayesianOptimization(
        objective=kt.Objective('score', 'max'),
        max_trials=10),
    hypermodel=build_model,
    scoring=metrics.make_scorer(metrics.accuracy_score),
    cv=model_selection.StratifiedKFold(5),
    directory='.',
    project_name='my_project')

X, y = datasets.load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = model_selection.train_test_split(
    X, y, test_size=0.2)

tuner.search(X_train, y_train)

best_model = tuner.get_best_models(num_models=1)[0]
"""


def small_tree(hp):
    return DecisionTreeClassifier(max_depth=hp.Int("max_depth", 1, 6), random_state=0)


def iris():
    return datasets.load_iris(return_X_y=True)


def test_seed_002_example_runs_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(SEED_002_EXAMPLE, namespace)  # noqa: S102 (the seed's user code, as printed)

    tuner, best_model = namespace["tuner"], namespace["best_model"]
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 10 and all(t.status == "COMPLETED" for t in trials)
    best = tuner.oracle.get_best_trials(1)[0]
    assert (
        type(best_model).__name__
        == {"random_forest": "RandomForestClassifier", "ridge": "RidgeClassifier"}[
            best.hyperparameters.get("model_type")
        ]
    )
    assert best.score > 0.9
    assert best_model.score(namespace["X_test"], namespace["y_test"]) > 0.8
    assert (tmp_path / "my_project" / f"trial_{best.trial_id}" / "model.skops").exists()


def test_score_is_the_mean_of_the_folds_and_matches_cross_val_score(tmp_path):
    X, y = datasets.load_wine(return_X_y=True)
    cv = KFold(3, shuffle=True, random_state=0)
    tuner = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=4, seed=0),
        small_tree,
        scoring="accuracy",
        cv=cv,
        directory=tmp_path,
        project_name="w",
    )
    tuner.search(X, y, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    folds = [best.metrics.get_last_value(f"score_fold_{k}") for k in range(3)]
    assert best.score == pytest.approx(np.mean(folds), abs=1e-12)
    expected = cross_val_score(
        DecisionTreeClassifier(max_depth=best.hyperparameters.get("max_depth"), random_state=0),
        X,
        y,
        cv=cv,
        scoring="accuracy",
    )
    np.testing.assert_allclose(folds, expected)
    # Every trial's score is its folds' mean, and the best is the largest.
    scores = [t.score for t in tuner.oracle.trials.values()]
    assert best.score == max(scores)


def test_default_objective_is_score_and_extra_metrics_are_recorded(tmp_path):
    X, y = iris()
    oracle = kt.oracles.RandomSearchOracle(max_trials=2, seed=1)  # no objective given
    tuner = SklearnTuner(
        oracle,
        small_tree,
        cv=3,
        metrics=[metrics.accuracy_score, metrics.balanced_accuracy_score],
        return_train_score=True,
        directory=tmp_path,
        project_name="m",
    )
    assert oracle.objective == kt.Objective("score", "max")
    tuner.search(X, y, verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    values = {name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics}
    for name in ("score", "accuracy_score", "balanced_accuracy_score", "train_score"):
        folds = [values[f"{name}_fold_{k}"] for k in range(3)]
        assert values[name] == pytest.approx(np.mean(folds))
    # The default scoring is the estimator's score: accuracy for a classifier.
    assert values["score"] == pytest.approx(values["accuracy_score"])
    assert values["fit_time"] > 0


def test_best_model_after_restart_predicts_like_the_refit_model(tmp_path):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X, y = X[:200], y[:200]

    def build(hp):
        return make_pipeline(
            StandardScaler(),
            linear_model.LogisticRegression(
                C=hp.Float("C", 1e-3, 1e2, sampling="log"), max_iter=500
            ),
        )

    def tuner():
        return SklearnTuner(
            kt.oracles.RandomSearchOracle(max_trials=3, seed=4),
            build,
            cv=3,
            directory=tmp_path,
            project_name="bc",
        )

    first = tuner()
    first.search(X, y, verbose=0)
    refit = first.get_best_models(1)[0]
    best = first.oracle.get_best_trials(1)[0]
    expected = make_pipeline(
        StandardScaler(),
        linear_model.LogisticRegression(C=best.hyperparameters.get("C"), max_iter=500),
    ).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), expected.predict_proba(X))

    # A new process on the same project loads the saved model (no data, no refit).
    script = textwrap.dedent(f"""
        import numpy as np, tunelab as kt
        from sklearn.datasets import load_breast_cancer
        X, y = load_breast_cancer(return_X_y=True)
        tuner = kt.tuners.Sklearn(kt.oracles.RandomSearchOracle(max_trials=3, seed=4),
                                  lambda hp: None, directory={str(tmp_path)!r},
                                  project_name="bc")
        model = tuner.get_best_models(1)[0]
        np.save({str(tmp_path / "proba.npy")!r}, model.predict_proba(X[:200]))
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), refit.predict_proba(X))


def test_other_best_models_refit_on_demand_and_refit_false(tmp_path):
    X, y = iris()
    tuner = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=4, seed=2),
        small_tree,
        cv=3,
        directory=tmp_path,
        project_name="r",
    )
    tuner.search(X, y, verbose=0)
    models = tuner.get_best_models(3)
    trials = tuner.oracle.get_best_trials(3)
    assert [m.max_depth for m in models] == [t.hyperparameters.get("max_depth") for t in trials]
    assert all(hasattr(m, "tree_") for m in models)  # fitted

    off = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=2, seed=2),
        small_tree,
        cv=3,
        refit=False,
        directory=tmp_path,
        project_name="off",
    )
    off.search(X, y, verbose=0)
    assert not list((tmp_path / "off").glob("trial_*/model.skops"))
    with pytest.raises(RuntimeError, match="refit=False"):
        off.get_best_models()


def test_sample_weight_groups_and_parallel_folds(tmp_path):
    X, y = iris()
    groups = np.arange(len(y)) % 5
    weights = np.where(y == 0, 3.0, 1.0)
    cv = model_selection.GroupKFold(5)
    tuner = SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=2, seed=0),
        small_tree,
        scoring="accuracy",
        cv=cv,
        n_jobs=2,
        directory=tmp_path,
        project_name="g",
    )
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        tuner.search(X, y, sample_weight=weights, groups=groups, verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    depth = trial.hyperparameters.get("max_depth")
    expected = []
    for train, test in cv.split(X, y, groups):
        model = DecisionTreeClassifier(max_depth=depth, random_state=0)
        model.fit(X[train], y[train], sample_weight=weights[train])
        expected.append(
            metrics.accuracy_score(y[test], model.predict(X[test]), sample_weight=weights[test])
        )
    assert [trial.metrics.get_last_value(f"score_fold_{k}") for k in range(5)] == pytest.approx(
        expected
    )


def test_a_failing_fit_fails_the_trial_with_its_traceback(tmp_path):
    X, y = iris()

    def build(hp):
        return DecisionTreeClassifier(criterion=hp.Choice("criterion", ["gini", "bogus"]))

    tuner = SklearnTuner(
        kt.oracles.GridSearchOracle(), build, cv=3, directory=tmp_path, project_name="f"
    )
    tuner.search(X, y, verbose=0)
    trials = {t.hyperparameters.get("criterion"): t for t in tuner.oracle.trials.values()}
    assert trials["gini"].status == "COMPLETED"
    assert trials["bogus"].status == "FAILED"
    assert "criterion" in trials["bogus"].message and "Traceback" in trials["bogus"].message

    scored = SklearnTuner(
        kt.oracles.GridSearchOracle(),
        build,
        cv=3,
        error_score=0.0,
        directory=tmp_path,
        project_name="f0",
    )
    with pytest.warns(Warning, match="folds failed"):
        scored.search(X, y, verbose=0)
    bogus = [
        t for t in scored.oracle.trials.values() if t.hyperparameters.get("criterion") == "bogus"
    ][0]
    assert bogus.status == "COMPLETED" and bogus.score == 0.0


def test_bad_input_is_reported_before_any_trial(tmp_path):
    X, y = iris()
    oracle = kt.oracles.RandomSearchOracle(max_trials=2)

    def tuner(**kwargs):
        return SklearnTuner(
            oracle, small_tree, directory=tmp_path, project_name="bad", overwrite=True, **kwargs
        )

    with pytest.raises(ValueError, match="y has 149 entries but X has 150"):
        tuner(cv=3).search(X, y[:-1])
    with pytest.raises(ValueError, match="scoring='acuracy' is not a scikit-learn scorer"):
        tuner(scoring="acuracy")
    with pytest.raises(ValueError, match="class .* has only 2 sample"):
        tuner(cv=StratifiedKFold(3)).search(X[:52], y[:52])
    with pytest.raises(ValueError, match="cv=1"):
        tuner(cv=1).search(X, y)
    with pytest.raises(ValueError, match="cv='five'"):
        tuner(cv="five")
    # With the Keras backend installed, `loss` is a known backend argument and the sklearn
    # backend itself rejects it; without it, the tuner does.
    with pytest.raises(TypeError, match=r"(unexpected keyword argument|does not accept).*'loss'"):
        SklearnTuner(oracle, small_tree, loss="mse", directory=tmp_path, project_name="bad")
    with pytest.raises(TypeError, match="needs a scikit-learn estimator"):
        SklearnTuner(
            oracle, lambda hp: "not a model", directory=tmp_path, project_name="bad", overwrite=True
        ).search(X, y)
    with pytest.raises(ValueError, match="objective.*'val_loss'.*not among"):
        SklearnTuner(
            kt.oracles.RandomSearchOracle(objective="val_loss"),
            small_tree,
            directory=tmp_path,
            project_name="bad",
        )
    assert len(oracle.trials) == 0  # nothing ran


def test_parallel_trials_in_batches_score_as_one_at_a_time(tmp_path, monkeypatch):
    import tunelab_sklearn.parallel_trials as parallel_trials

    X, y = iris()
    sizes = []
    real = parallel_trials.cross_validate_each

    def spy(jobs, *args, **kwargs):
        sizes.append(len(jobs))
        return real(jobs, *args, **kwargs)

    monkeypatch.setattr(parallel_trials, "cross_validate_each", spy)

    def build(hp):
        depth = hp.Int("max_depth", 1, 6)
        if depth == 4:
            raise ValueError("depth 4 is not allowed here")
        return DecisionTreeClassifier(max_depth=depth, random_state=0)

    def tuner(name, n_jobs):
        return SklearnTuner(
            kt.oracles.GridSearchOracle(),
            build,
            cv=5,
            n_jobs=n_jobs,
            directory=tmp_path,
            project_name=name,
        )

    batched = tuner("batched", 2)
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        batched.search(X, y, verbose=0)
    # Grid search does not learn from results: its 6 trials are asked at once, and the 5
    # that build (depth 4 raises) are cross-validated in one joblib call.
    assert sizes == [5]
    batches = len(sizes)
    single = tuner("single", None)
    single.search(X, y, verbose=0)
    assert len(sizes) == batches  # one at a time: the tuner loop, not the batches

    def outcome(t):
        return {
            tr.hyperparameters.get("max_depth"): (tr.status, tr.score)
            for tr in t.oracle.trials.values()
        }

    assert outcome(batched) == outcome(single)
    assert outcome(batched)[4] == ("FAILED", None)
    assert len(outcome(batched)) == 6
    assert batched.get_best_models(1)[0].max_depth == single.get_best_models(1)[0].max_depth


def test_batches_fill_the_workers_for_an_oracle_that_learns():
    from tunelab_sklearn.parallel_trials import batch_size

    bayesian = kt.oracles.BayesianOptimizationOracle(max_trials=4)
    assert batch_size(2, 5, bayesian) == 2  # 10 fits: 5 full rounds on 2 workers
    assert batch_size(2, 4, bayesian) == 1  # 4 folds already fill 2 workers
    assert batch_size(2, 5, kt.oracles.RandomSearchOracle()) == 16
    assert batch_size(1, 5, kt.oracles.RandomSearchOracle()) == 1
