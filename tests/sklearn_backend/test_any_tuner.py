"""Every tuner (kt.RandomSearch, kt.BayesianOptimization, kt.GridSearch, kt.Hyperband) tunes
scikit-learn estimators through the backend with the same `search(X, y)` call."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets, ensemble, linear_model
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import tunelab as kt
import tunelab_sklearn.backend as backend_module
from tunelab_sklearn.resources import nested_subsample

CV = StratifiedKFold(3, shuffle=True, random_state=0)


def families(hp):
    """Seed 002's hypermodel in a pipeline: a scaler and a Choice of model families, each
    with its own (conditional) hyperparameters."""
    scaler = {"standard": StandardScaler(), "minmax": MinMaxScaler()}[
        hp.Choice("scaler", ["standard", "minmax"])
    ]
    family = hp.Choice("model_type", ["random_forest", "logistic"])
    if family == "random_forest":
        with hp.conditional_scope("model_type", "random_forest"):
            model = ensemble.RandomForestClassifier(
                n_estimators=hp.Int("n_estimators", 5, 20, step=5),
                max_depth=hp.Int("max_depth", 2, 8),
                random_state=0,
            )
    else:
        with hp.conditional_scope("model_type", "logistic"):
            model = linear_model.LogisticRegression(
                C=hp.Float("C", 1e-3, 1e2, sampling="log"), max_iter=300
            )
    return Pipeline([("scale", scaler), ("model", model)])


def rebuild(values):
    """The pipeline of a trial's values, built again by hand."""
    hp = kt.HyperParameters()
    hp.values.update(values)
    return families(hp)


@pytest.mark.parametrize("tuner_class", [kt.RandomSearch, kt.BayesianOptimization])
def test_random_and_bayesian_tune_a_choice_of_model_families(tuner_class, tmp_path):
    X, y = datasets.load_wine(return_X_y=True)
    tuner = tuner_class(
        families,
        objective="score",
        max_trials=6,
        seed=1,
        cv=CV,
        scoring="accuracy",
        directory=tmp_path,
        project_name="f",
    )
    tuner.search(X, y, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 6
    # Each trial's score is the mean CV accuracy of the pipeline its values describe; only
    # the chosen family's hyperparameters are active.
    for trial in trials[:3]:
        values = trial.hyperparameters.values
        other = {"random_forest": "C", "logistic": "max_depth"}[values["model_type"]]
        assert other not in values
        expected = cross_val_score(rebuild(values), X, y, cv=CV, scoring="accuracy")
        assert trial.score == pytest.approx(expected.mean())
    best = tuner.get_best_trials(1)[0]
    assert best.score > 0.9
    model = tuner.get_best_models(1)[0]  # refit on all the data and saved with skops
    assert (tmp_path / "f" / f"trial_{best.trial_id}" / "model.skops").exists()
    assert model.get_params()["scale"].__class__ is type(
        rebuild(best.hyperparameters.values).get_params()["scale"]
    )
    assert model.score(X, y) > 0.9


def test_grid_search_covers_the_grid_of_a_pipeline(tmp_path):
    X, y = datasets.load_iris(return_X_y=True)

    def build(hp):
        return make_pipeline(
            StandardScaler(),
            linear_model.LogisticRegression(
                C=hp.Choice("C", [0.01, 1.0, 100.0]),
                fit_intercept=hp.Boolean("fit_intercept"),
                max_iter=500,
            ),
        )

    tuner = kt.GridSearch(build, objective="score", cv=CV, directory=tmp_path, project_name="g")
    tuner.search(X, y, verbose=0)
    seen = {
        (t.hyperparameters.get("C"), t.hyperparameters.get("fit_intercept")): t.score
        for t in tuner.oracle.trials.values()
    }
    assert len(seen) == 6
    for (c, intercept), score in seen.items():
        expected = cross_val_score(
            make_pipeline(
                StandardScaler(),
                linear_model.LogisticRegression(C=c, fit_intercept=intercept, max_iter=500),
            ),
            X,
            y,
            cv=CV,
        )
        assert score == pytest.approx(expected.mean())
    assert max(seen, key=seen.get)[0] != 0.01  # the weakest regularization never wins here


def boosting(hp):
    return ensemble.GradientBoostingClassifier(
        learning_rate=hp.Float("learning_rate", 0.05, 0.5, sampling="log"),
        max_depth=hp.Int("max_depth", 1, 3),
        random_state=0,
    )


def test_hyperband_budgets_n_estimators_and_continues_the_fold_models(tmp_path, monkeypatch):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X, y = X[:240], y[:240]
    calls = []
    real = backend_module.cross_validate_candidates

    def spy(candidates, *args, start_models=None, **kwargs):
        calls.append(start_models is not None)
        return real(candidates, *args, start_models=start_models, **kwargs)

    monkeypatch.setattr(backend_module, "cross_validate_candidates", spy)
    tuner = kt.Hyperband(
        boosting,
        objective="score",
        max_epochs=9,
        factor=3,
        seed=0,
        cv=CV,
        resource="n_estimators",
        resource_per_epoch=2,
        directory=tmp_path,
        project_name="hb",
    )
    tuner.search(X, y, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 23 and all(t.status == "COMPLETED" for t in trials)  # as KerasTuner
    continued = [t for t in trials if t.hyperparameters.values.get("tuner/trial_id")]
    assert continued and sum(calls) == len(continued)  # every promotion was warm-started
    # Warm-started boosting adds rounds to the parent's folds: the same scores as fitting
    # epochs * 2 rounds from scratch.
    for trial in [continued[0], continued[-1], trials[0]]:
        values = trial.hyperparameters.values
        model = boosting(kt.HyperParameters()).set_params(
            learning_rate=values["learning_rate"],
            max_depth=values["max_depth"],
            n_estimators=2 * values["tuner/epochs"],
        )
        folds = [trial.metrics.get_last_value(f"score_fold_{k}") for k in range(3)]
        np.testing.assert_allclose(folds, cross_val_score(model, X, y, cv=CV))
    best_model = tuner.get_best_models(1)[0]
    best = tuner.get_best_trials(1)[0]
    assert best_model.n_estimators == 2 * best.hyperparameters.get("tuner/epochs")


def test_hyperband_budgets_the_training_subsample(tmp_path):
    X, y = datasets.load_digits(return_X_y=True)
    X, y = X[:600], y[:600]

    def build(hp):
        return linear_model.RidgeClassifier(alpha=hp.Float("alpha", 1e-3, 1e3, sampling="log"))

    tuner = kt.Hyperband(
        build,
        objective="score",
        max_epochs=4,
        factor=2,
        seed=3,
        cv=CV,
        resource="n_samples",
        directory=tmp_path,
        project_name="rows",
    )
    tuner.search(X, y, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert all(t.status == "COMPLETED" for t in trials)
    splits = list(CV.split(X, y))
    for epochs in (1, 4):
        trial = next(t for t in trials if t.hyperparameters.get("tuner/epochs") == epochs)
        expected = []
        for k, (train, test) in enumerate(splits):
            rows = nested_subsample(train, epochs / 4, y, True, seed=k)
            assert len(rows) == int(np.ceil(epochs / 4 * len(train)))
            model = build(kt.HyperParameters()).set_params(alpha=trial.hyperparameters.get("alpha"))
            expected.append(model.fit(X[rows], y[rows]).score(X[test], y[test]))
        folds = [trial.metrics.get_last_value(f"score_fold_{k}") for k in range(3)]
        np.testing.assert_allclose(folds, expected)


def test_nested_subsamples_grow_and_keep_the_class_balance():
    y = np.array([0] * 90 + [1] * 10)
    train = np.arange(100)
    small = nested_subsample(train, 0.2, y, True, seed=1)
    large = nested_subsample(train, 0.5, y, True, seed=1)
    assert set(small) <= set(large)
    assert np.bincount(y[small]).tolist() == [18, 2]


def test_hyperband_with_sklearn_needs_a_resource(tmp_path):
    X, y = datasets.load_iris(return_X_y=True)
    tuner = kt.Hyperband(
        boosting, objective="score", max_epochs=3, cv=3, directory=tmp_path, project_name="nores"
    )
    with pytest.raises(ValueError, match=r"resource='n_estimators'.*to the tuner"):
        tuner.search(X, y, verbose=0)
    with pytest.raises(ValueError, match="resource_per_epoch=0; expected a number > 0"):
        kt.Hyperband(
            boosting,
            objective="score",
            max_epochs=3,
            resource="n_estimators",
            resource_per_epoch=0,
            directory=tmp_path,
            project_name="x",
        ).search(X, y)

    def ridge(hp):
        return linear_model.RidgeClassifier(alpha=hp.Float("alpha", 0.1, 1.0))

    wrong = kt.Hyperband(
        ridge,
        objective="score",
        max_epochs=3,
        cv=3,
        resource="n_estimators",
        directory=tmp_path,
        project_name="wrong",
        max_consecutive_failed_trials=2,
    )
    with pytest.raises(
        Exception, match="resource='n_estimators' is not a parameter of RidgeClassifier"
    ):
        wrong.search(X, y, verbose=0)
    assert clone(boosting(kt.HyperParameters())).n_estimators == 100  # models left unchanged


def test_bad_input_stops_any_tuner_at_its_first_trial(tmp_path):
    X, y = datasets.load_iris(return_X_y=True)

    def tree(hp):
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=hp.Int("max_depth", 1, 4))

    def tuner(name, **kwargs):
        return kt.RandomSearch(
            tree, objective="score", max_trials=3, directory=tmp_path, project_name=name, **kwargs
        )

    cases = [
        ("lengths", {"cv": 3}, (X, y[:-1]), "y has 149 entries but X has 150 samples"),
        ("scorer", {"scoring": "acuracy"}, (X, y), "scoring='acuracy' is not a scikit-learn"),
        (
            "folds",
            {"cv": StratifiedKFold(5)},
            (X[:54], y[:54]),
            "5 stratified folds, but class 1 has only 4",
        ),
    ]
    for name, kwargs, data, message in cases:
        search = tuner(name, **kwargs)
        with pytest.raises(ValueError, match=message):
            search.search(*data, verbose=0)
        # The search stopped before anything was fitted: the one trial asked went back to
        # the oracle (IDLE), none was recorded as failed.
        assert [t.status for t in search.oracle.trials.values()] == ["IDLE"]
    with pytest.raises(ValueError, match="objective='score'"):
        kt.RandomSearch(
            tree,
            objective="val_loss",
            max_trials=1,
            directory=tmp_path,
            project_name="objective",
            cv=3,
        ).search(X, y, verbose=0)
