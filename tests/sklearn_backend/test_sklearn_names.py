"""TuneSearchCV takes scikit-learn's argument names (param_distributions, param_grid,
n_iter) as GridSearchCV and RandomizedSearchCV users write them, and a grid search runs
the whole grid unless told otherwise (a grid cut short says so)."""

from __future__ import annotations

import warnings

import pytest
from scipy.stats import randint
from sklearn import datasets
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from tunelab_sklearn import TuneSearchCV

CV = StratifiedKFold(3, shuffle=True, random_state=0)
GRID = {"max_depth": [1, 2, 3, 5], "min_samples_split": [2, 4, 8]}  # 12 points


def _data():
    return datasets.load_wine(return_X_y=True)


def _tree():
    return DecisionTreeClassifier(random_state=0)


def test_param_grid_runs_the_whole_grid_like_grid_search_cv():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the whole grid: nothing to warn about
        ours = TuneSearchCV(_tree(), param_grid=GRID, cv=CV).fit(X, y)
    theirs = GridSearchCV(_tree(), GRID, cv=CV).fit(X, y)
    key = ("max_depth", "min_samples_split")

    def scores(search):
        rows = zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True)
        return sorted((tuple(p[k] for k in key), round(float(s), 12)) for p, s in rows)

    assert len(ours.cv_results_["params"]) == 12
    assert scores(ours) == scores(theirs)
    assert ours.best_score_ == pytest.approx(theirs.best_score_)


def test_a_grid_cut_short_says_so():
    X, y = _data()
    with pytest.warns(UserWarning, match="runs 10 of the grid's 12 points; leave n_trials"):
        search = TuneSearchCV(_tree(), GRID, oracle="grid", n_trials=10, cv=CV).fit(X, y)
    assert len(search.cv_results_["params"]) == 10


def test_param_distributions_and_n_iter_are_search_space_and_n_trials():
    X, y = _data()
    space = {"max_depth": randint(1, 20), "min_samples_split": randint(2, 20)}
    ours = TuneSearchCV(_tree(), param_distributions=space, n_iter=4, cv=CV, random_state=0)
    same = TuneSearchCV(_tree(), space, n_trials=4, cv=CV, random_state=0)
    assert ours.fit(X, y).cv_results_["params"] == same.fit(X, y).cv_results_["params"]
    assert len(ours.cv_results_["params"]) == 4
    # Unset, a random search runs 10 trials, as before.
    assert len(TuneSearchCV(_tree(), space, cv=CV).fit(X, y).cv_results_["params"]) == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, TypeError, r"needs a search space: pass search_space= \(or scikit-learn's"),
        (
            {"search_space": GRID, "param_grid": GRID},
            ValueError,
            "search_space and param_grid were all given: they are the same thing",
        ),
        (
            {"param_grid": GRID, "n_trials": 3, "n_iter": 3},
            ValueError,
            r"n_trials=3 and n_iter=3 were both given: .*\(n_iter is scikit-learn's name",
        ),
        ({"param_grid": GRID, "n_iter": 0}, ValueError, r"n_iter=0; expected an int >= 1"),
    ],
)
def test_conflicting_or_missing_names_are_refused_clearly(kwargs, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        TuneSearchCV(_tree(), cv=CV, **kwargs).fit(X, y)


def test_param_grid_as_a_list_of_dicts_runs_each_grid_like_grid_search_cv():
    X, y = _data()
    grid = [
        {"max_depth": [1, 2], "criterion": ["gini"]},
        {"max_depth": [3], "criterion": ["entropy"], "min_samples_split": [2, 8]},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TuneSearchCV(_tree(), param_grid=grid, cv=CV).fit(X, y)
    theirs = GridSearchCV(_tree(), grid, cv=CV).fit(X, y)

    def rows(search):
        results = search.cv_results_
        pairs = zip(results["params"], results["mean_test_score"], strict=True)
        return sorted((sorted(p.items()), round(float(s), 12)) for p, s in pairs)

    assert rows(ours) == rows(theirs)
    assert len(ours.cv_results_["params"]) == 4  # 2 + 1 x 2 points, no mixed dicts
    assert ours.best_params_ == theirs.best_params_
    # A parameter one dict lacks is masked in its rows, as scikit-learn's.
    gini = [p["criterion"] == "gini" for p in ours.cv_results_["params"]]
    masked = ours.cv_results_["param_min_samples_split"].mask
    assert list(masked) == gini
    # scikit-learn's random search draws a dict, then values from it: so does ours.
    sampled = TuneSearchCV(_tree(), param_distributions=grid, n_iter=3, cv=CV, random_state=0)
    for params in sampled.fit(X, y).cv_results_["params"]:
        assert params in [{"max_depth": d, "criterion": "gini"} for d in (1, 2)] + [
            {"max_depth": 3, "criterion": "entropy", "min_samples_split": m} for m in (2, 8)
        ]


def test_a_resumed_search_says_which_rows_of_cv_results_are_earlier_fits(tmp_path, capsys):
    X, y = _data()

    def fit(n_trials):
        return TuneSearchCV(
            _tree(),
            {"max_depth": list(range(1, 12))},
            n_trials=n_trials,
            cv=CV,
            random_state=0,
            directory=tmp_path,
            project_name="trees",
        ).fit(X, y)

    first = fit(4)
    assert capsys.readouterr().out == "" and first.n_resumed_trials_ == 0
    again = fit(4)
    assert capsys.readouterr().out == (
        f"Resumed project {tmp_path / 'trees'}: cv_results_ holds 4 trials, 4 from earlier "
        "fits (rows 0-3) and 0 run now; n_trials=4 counts the earlier ones: raise it to "
        "search further.\n"
    )
    assert again.n_resumed_trials_ == 4
    assert again.cv_results_["params"] == first.cv_results_["params"]
    more = fit(6)
    assert capsys.readouterr().out == (
        f"Resumed project {tmp_path / 'trees'}: cv_results_ holds 6 trials, 4 from earlier "
        "fits (rows 0-3) and 2 run now.\n"
    )
    assert more.cv_results_["params"][:4] == first.cv_results_["params"]
