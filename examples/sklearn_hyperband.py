"""Hyperband on scikit-learn estimators: the budget is a resource, not epochs.

Hyperband starts many configurations on a small budget and gives the best ones more.
scikit-learn models have no epochs, so the tuner is told what an "epoch" buys:

1. ``resource="n_estimators"`` with ``resource_per_epoch=10``: a trial given ``e`` epochs
   fits ``10 * e`` trees. A trial that continues one of the previous round keeps that
   trial's fitted fold models and only adds the new trees (``warm_start``).
2. ``resource="n_samples"`` (here with `TuneSearchCV`): a trial given ``e`` of
   ``max_epochs`` epochs trains each fold on that fraction of its rows (nested, stratified
   subsamples) and is scored on the whole test fold.

Run::

    python examples/sklearn_hyperband.py [--directory projects]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tunelab as kt
from tunelab_sklearn import TuneSearchCV


def forest(hp: kt.HyperParameters) -> ExtraTreesClassifier:
    """The hyperparameters to tune; the number of trees is the budget."""
    return ExtraTreesClassifier(
        max_depth=hp.Int("max_depth", 4, 24),
        max_features=hp.Float("max_features", 0.05, 0.8, sampling="log"),
        min_samples_leaf=hp.Int("min_samples_leaf", 1, 8),
        random_state=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Hyperband with scikit-learn resources")
    parser.add_argument("--directory", default="projects")
    directory = Path(parser.parse_args().directory) / "sklearn_hyperband"

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)

    print("== 1. kt.Hyperband, resource='n_estimators' ==")
    start = time.perf_counter()
    tuner = kt.Hyperband(
        forest,
        objective="score",
        max_epochs=9,  # up to 90 trees
        factor=3,
        seed=1,
        cv=cv,
        scoring="accuracy",
        resource="n_estimators",
        resource_per_epoch=10,
        directory=directory,
        project_name="trees",
        overwrite=True,
    )
    tuner.search(X_train, y_train, verbose=0)
    trials = list(tuner.oracle.trials.values())
    trees = sum(10 * t.hyperparameters.get("tuner/epochs") for t in trials)
    added = sum(
        10 * (t.hyperparameters.get("tuner/epochs") - t.hyperparameters.get("tuner/initial_epoch"))
        for t in trials
    )
    print(f"{len(trials)} trials in {time.perf_counter() - start:.1f} s")
    print(f"trees per fold: {added} fitted, {trees} scored (continued trials kept their trees)")
    tuner.results_summary(num_trials=2)
    best = tuner.get_best_models(1)[0]
    print(f"best: {best.n_estimators} trees, held-out accuracy {best.score(X_test, y_test):.4f}")

    print("\n== 2. TuneSearchCV(oracle='hyperband'), resource='n_samples' ==")
    search = TuneSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)),
        {
            "logisticregression__C": loguniform(1e-3, 1e2),
            "logisticregression__class_weight": [None, "balanced"],
        },
        n_trials=30,
        oracle="hyperband",
        resource="n_samples",
        cv=cv,
        random_state=0,
    )
    search.fit(X_train, y_train)
    rows = search.cv_results_["n_resources"]
    for fraction in sorted(set(rows.tolist())):
        scores = search.cv_results_["mean_test_score"][rows == fraction]
        print(f"{fraction:6.0%} of the rows: {len(scores):2d} trials, best {scores.max():.4f}")
    print(f"best: {search.best_params_}, held-out accuracy {search.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
