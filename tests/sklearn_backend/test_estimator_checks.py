"""TuneSearchCV passes scikit-learn's estimator checks (the API contract of an estimator)."""

from __future__ import annotations

from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import tunelab as kt
from tunelab_sklearn import TuneSearchCV

# The same small searches scikit-learn checks its own RandomizedSearchCV with, plus one
# over a tunelab hyperparameter.
ESTIMATORS = [
    TuneSearchCV(
        Ridge(), {"alpha": [0.1, 1.0]}, n_trials=2, cv=2, error_score="raise", random_state=0
    ),
    TuneSearchCV(
        LogisticRegression(),
        {"C": [0.1, 1.0]},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    ),
    TuneSearchCV(
        Pipeline([("pca", PCA()), ("ridge", Ridge())]),
        {"ridge__alpha": kt.HyperParameters.Float("a", 0.1, 10.0, sampling="log")},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    ),
]


def expected_failures(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
