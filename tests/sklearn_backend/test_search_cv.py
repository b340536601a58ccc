"""TuneSearchCV against scikit-learn's RandomizedSearchCV: the same fitted attributes, the
same numbers on the same candidates, and the places where scikit-learn puts estimators."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import loguniform, randint
from sklearn import datasets
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import make_scorer, recall_score
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tunelab as kt
from tunelab_sklearn import TuneSearchCV

CV = StratifiedKFold(3, shuffle=True, random_state=0)
DEPTHS = [1, 2, 3, 5]


def wine():
    return datasets.load_wine(return_X_y=True)


def both(scoring=None, refit=True, return_train_score=False, **ours):
    """TuneSearchCV and RandomizedSearchCV over the same 4 candidates, fitted on wine."""
    X, y = wine()
    tree = DecisionTreeClassifier(random_state=0)
    space = {"max_depth": DEPTHS}
    common = {
        "scoring": scoring,
        "refit": refit,
        "cv": CV,
        "return_train_score": return_train_score,
    }
    tunelab = TuneSearchCV(tree, space, n_trials=4, random_state=0, **common, **ours)
    sklearn = RandomizedSearchCV(tree, space, n_iter=4, random_state=0, **common)
    return tunelab.fit(X, y), sklearn.fit(X, y)


def by_depth(search, key):
    order = np.argsort([p["max_depth"] for p in search.cv_results_["params"]])
    return np.asarray(search.cv_results_[key])[order]


def assert_same_results(ours, theirs):
    assert list(ours.cv_results_) == list(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        mine = ours.cv_results_[key]
        assert type(mine) is type(value), key
        if isinstance(value, np.ndarray):
            assert mine.dtype == value.dtype, key
        if "time" not in key and key != "params":
            np.testing.assert_allclose(
                by_depth(ours, key).astype(float), by_depth(theirs, key).astype(float), err_msg=key
            )


def test_single_metric_results_and_fitted_attributes_match_randomized_search():
    ours, theirs = both(return_train_score=True)
    assert_same_results(ours, theirs)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_)
    assert ours.cv_results_["params"][ours.best_index_] == ours.best_params_
    assert ours.n_splits_ == theirs.n_splits_ == 3
    assert ours.multimetric_ is theirs.multimetric_ is False
    assert ours.refit_time_ > 0
    X, y = wine()
    assert ours.scorer_(ours.best_estimator_, X, y) == ours.best_estimator_.score(X, y)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    assert ours.score(X, y) == theirs.score(X, y)
    np.testing.assert_array_equal(ours.classes_, np.unique(y))


def test_multimetric_list_with_refit_by_name():
    ours, theirs = both(scoring=["accuracy", "balanced_accuracy"], refit="balanced_accuracy")
    assert_same_results(ours, theirs)
    assert ours.multimetric_ and sorted(ours.scorer_) == ["accuracy", "balanced_accuracy"]
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_)
    X, y = wine()
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y))


def test_multimetric_dict_with_refit_callable():
    def simplest_good(cv_results):
        # The shallowest tree within 0.05 of the best recall.
        recall = np.asarray(cv_results["mean_test_recall"])
        good = np.flatnonzero(recall >= recall.max() - 0.05)
        depths = [cv_results["params"][i]["max_depth"] for i in good]
        return int(good[np.argmin(depths)])

    scoring = {"accuracy": "accuracy", "recall": make_scorer(recall_score, average="macro")}
    ours, theirs = both(scoring=scoring, refit=simplest_good)
    assert_same_results(ours, theirs)
    assert ours.best_params_ == theirs.best_params_
    assert not hasattr(ours, "best_score_")  # as scikit-learn: no score for a callable


def test_delegates_transform_and_decision_function_and_errors_without_refit():
    X, y = wine()
    pca = TuneSearchCV(
        PCA(),
        {"n_components": [2, 4]},
        n_trials=2,
        cv=3,
        scoring=lambda est, X, y=None: est.explained_variance_ratio_.sum(),
    ).fit(X)
    assert pca.best_params_ == {"n_components": 4}
    assert pca.transform(X).shape == (len(X), 4)
    np.testing.assert_allclose(
        pca.inverse_transform(pca.transform(X)),
        pca.best_estimator_.inverse_transform(pca.transform(X)),
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    search = TuneSearchCV(
        model, {"logisticregression__C": loguniform(1e-2, 1e2)}, n_trials=3, cv=CV, random_state=1
    ).fit(X, y)
    np.testing.assert_allclose(
        search.decision_function(X), search.best_estimator_.decision_function(X)
    )
    off = TuneSearchCV(
        model, {"logisticregression__C": [0.1, 1.0]}, n_trials=2, cv=CV, refit=False
    ).fit(X, y)
    assert off.best_params_ in off.cv_results_["params"]
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as error:
        off.predict(X)
    assert "initialized with refit=False" in str(error.value.__cause__)


def test_clone_pipeline_and_cross_val_score():
    X, y = wine()
    search = TuneSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": DEPTHS},
        n_trials=4,
        cv=3,
        random_state=0,
    )
    copy = clone(search)
    assert copy.get_params()["search_space"] == {"max_depth": DEPTHS}
    assert not hasattr(copy, "cv_results_")
    pipe = make_pipeline(StandardScaler(), search).fit(X, y)
    assert pipe.score(X, y) == pytest.approx(
        pipe[-1].best_estimator_.score(StandardScaler().fit_transform(X), y)
    )
    outer = cross_val_score(search, X, y, cv=3)
    assert outer.shape == (3,) and outer.mean() > 0.8


@pytest.mark.parametrize(
    "space",
    [
        {"alpha": loguniform(1e-3, 1e2), "fit_intercept": [True, False]},
        {
            "alpha": kt.HyperParameters.Float("alpha", 1e-3, 1e2, sampling="log"),
            "fit_intercept": kt.HyperParameters.Boolean("fit_intercept"),
        },
    ],
)
def test_search_space_of_distributions_or_tunelab_hyperparameters(space):
    X, y = datasets.load_diabetes(return_X_y=True)
    search = TuneSearchCV(Ridge(), space, n_trials=6, oracle="bayesian", cv=3, random_state=0).fit(
        X, y
    )
    alphas = search.cv_results_["param_alpha"]
    assert alphas.min() >= 1e-3 and alphas.max() <= 1e2
    best = search.best_params_
    expected = cross_val_score(Ridge(**best), X, y, cv=3).mean()
    assert search.best_score_ == pytest.approx(expected)
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])


def test_other_scipy_distributions_and_rich_lists_decode_to_parameters():
    X, y = wine()
    space = {
        "max_depth": [None, 2, 4],
        "min_samples_leaf": randint(1, 5),
        "class_weight": [None, "balanced"],
    }
    search = TuneSearchCV(
        DecisionTreeClassifier(random_state=0), space, n_trials=8, cv=3, random_state=3
    ).fit(X, y)
    for params in search.cv_results_["params"]:
        assert params["max_depth"] in (None, 2, 4)
        assert 1 <= params["min_samples_leaf"] <= 4
        assert params["class_weight"] in (None, "balanced")
    assert len({tuple(sorted(p.items(), key=str)) for p in search.cv_results_["params"]}) == 8


def test_oracle_by_name_and_instance():
    X, y = wine()
    tree = DecisionTreeClassifier(random_state=0)
    space = {"max_depth": randint(1, 8), "min_samples_split": randint(2, 10)}
    for oracle in ("random", "bayesian", kt.oracles.RandomSearchOracle(seed=5)):
        search = TuneSearchCV(tree, space, n_trials=5, oracle=oracle, cv=CV, random_state=0).fit(
            X, y
        )
        assert len(search.cv_results_["params"]) == 5
        assert search.best_score_ > 0.85
    grid = TuneSearchCV(tree, {"max_depth": DEPTHS}, n_trials=None, oracle="grid", cv=CV).fit(X, y)
    assert sorted(p["max_depth"] for p in grid.cv_results_["params"]) == DEPTHS


def test_hyperband_budgets_rows_and_chooses_among_full_budgets():
    X, y = datasets.load_digits(return_X_y=True)
    from sklearn.ensemble import RandomForestClassifier

    search = TuneSearchCV(
        RandomForestClassifier(random_state=0),
        {"max_depth": randint(2, 12)},
        n_trials=10,
        oracle="hyperband",
        resource="n_estimators",
        resource_per_epoch=4,
        cv=3,
        random_state=0,
    ).fit(X, y)
    resources = search.cv_results_["n_resources"]
    assert sorted(set(resources.tolist())) == [4, 12]  # max_epochs 3, factor 3
    assert [p["n_estimators"] for p in search.cv_results_["params"]] == resources.tolist()
    assert search.best_params_["n_estimators"] == 12
    assert search.best_estimator_.n_estimators == 12
    full = resources == 12
    assert search.best_score_ == max(search.cv_results_["mean_test_score"][full])


def test_error_score_nan_warns_and_raise_raises():
    X, y = wine()
    space = {"criterion": ["gini", "bogus"]}
    search = TuneSearchCV(
        DecisionTreeClassifier(random_state=0), space, n_trials=2, cv=3, random_state=0
    )
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        search.fit(X, y)
    scores = dict(
        zip(
            [p["criterion"] for p in search.cv_results_["params"]],
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert np.isnan(scores["bogus"]) and scores["gini"] > 0.8
    assert search.best_params_ == {"criterion": "gini"}
    with pytest.raises(ValueError, match="criterion"):
        clone(search).set_params(error_score="raise").fit(X, y)


def test_trials_kept_in_a_project_and_resumed(tmp_path):
    X, y = wine()
    space = {"max_depth": randint(1, 10), "min_samples_leaf": randint(1, 10)}

    def search(n):
        return TuneSearchCV(
            DecisionTreeClassifier(random_state=0),
            space,
            n_trials=n,
            cv=CV,
            random_state=0,
            directory=tmp_path,
            project_name="wine",
        )

    first = search(3).fit(X, y)
    assert (tmp_path / "wine" / "tunelab.sqlite").exists()
    resumed = search(5).fit(X, y)
    assert len(resumed.cv_results_["params"]) == 5
    assert resumed.cv_results_["params"][:3] == first.cv_results_["params"]
    np.testing.assert_allclose(
        resumed.cv_results_["mean_test_score"][:3], first.cv_results_["mean_test_score"]
    )
    with pytest.raises(ValueError, match="other data"):
        search(6).fit(X[:100], y[:100])


def test_bad_input_names_the_argument():
    X, y = wine()
    tree = DecisionTreeClassifier()
    space = {"max_depth": DEPTHS}
    cases = [
        (TuneSearchCV(tree, space, cv=3), (X, y[:-1]), ValueError, "y has 177 entries"),
        (
            TuneSearchCV(tree, space, scoring="acuracy"),
            (X, y),
            ValueError,
            "scoring='acuracy' is not a scikit-learn scorer",
        ),
        (
            TuneSearchCV(tree, space, cv=StratifiedKFold(5)),
            (X[:60], y[:60]),
            ValueError,
            "class .* has only 1 sample",
        ),
        (
            TuneSearchCV(tree, {"depth": DEPTHS}),
            (X, y),
            ValueError,
            r"\['depth'\] are not parameters of DecisionTreeClassifier",
        ),
        (TuneSearchCV(tree, space, n_trials=0), (X, y), ValueError, "n_trials=0"),
        (TuneSearchCV(tree, space, oracle="tpe"), (X, y), ValueError, "oracle='tpe'"),
        (TuneSearchCV("tree", space), (X, y), TypeError, "estimator='tree'"),
        (
            TuneSearchCV(tree, space, error_score="ignore"),
            (X, y),
            ValueError,
            "error_score='ignore'",
        ),
        (
            TuneSearchCV(tree, {"max_depth": object()}),
            (X, y),
            TypeError,
            r"search_space\['max_depth'\]",
        ),
        (
            TuneSearchCV(tree, space, oracle="hyperband", resource="max_depth"),
            (X, y),
            ValueError,
            "max_depth is also in search_space",
        ),
    ]
    for search, data, error, message in cases:
        with pytest.raises(error, match=message):
            search.fit(*data)


def test_multimetric_with_train_scores_has_randomized_search_keys_and_dtypes():
    ours, theirs = both(scoring=["accuracy", "f1_macro"], refit="f1_macro", return_train_score=True)
    assert_same_results(ours, theirs)  # keys in order, types, dtypes and values
    assert "mean_train_f1_macro" in ours.cv_results_
    assert ours.cv_results_["rank_test_f1_macro"].dtype == np.int32
    assert ours.best_index_ == int(np.argmin(ours.cv_results_["rank_test_f1_macro"]))


def test_bad_refit_names_the_argument():
    X, y = wine()
    tree = DecisionTreeClassifier(random_state=0)
    space = {"max_depth": DEPTHS}
    several = ["accuracy", "f1_macro"]
    cases = [
        ({"scoring": several, "refit": True}, ValueError, "refit=True: with several scorers"),
        ({"scoring": several, "refit": "recall"}, ValueError, "refit='recall'"),
        ({"refit": lambda results: "first"}, TypeError, "returned 'first'; expected the index"),
        ({"refit": lambda results: 7}, IndexError, r"returned 7; expected an index in \[0, 2\)"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            TuneSearchCV(tree, space, n_trials=2, cv=CV, random_state=0, **kwargs).fit(X, y)


def test_nested_parameters_and_clone_of_a_fitted_search():
    X, y = wine()
    search = TuneSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": DEPTHS}, n_trials=2, cv=CV
    )
    search.set_params(estimator__min_samples_leaf=5, n_trials=3)
    params = search.get_params(deep=True)
    assert params["estimator__min_samples_leaf"] == 5 and params["n_trials"] == 3
    search.fit(X, y)
    assert search.best_estimator_.min_samples_leaf == 5  # the nested parameter was used
    assert len(search.cv_results_["params"]) == 3
    copy = clone(search)
    assert not hasattr(copy, "cv_results_") and not hasattr(copy, "best_estimator_")
    assert copy.get_params()["estimator__min_samples_leaf"] == 5


def test_a_project_in_nested_cross_validation_says_to_leave_it_unset(tmp_path):
    X, y = wine()
    search = TuneSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": DEPTHS},
        n_trials=2,
        cv=3,
        directory=tmp_path,
        project_name="nested",
    )
    # Each outer fold fits a clone on other rows: the project's guard names the fix.
    with pytest.raises(ValueError, match="In cross_val_score .* leave directory and project_name"):
        cross_val_score(search, X, y, cv=3, error_score="raise")
