"""The quick-start demo: three real tuning runs, stored in SQLite.

Run it with `make demo`.

1. A black-box objective: four hyperparameters of a test function (a log-scaled learning
   rate, a stepped integer, a choice and a conditional float) tuned with random search.
2. A scikit-learn pipeline on the breast cancer data bundled with scikit-learn: a scaler
   and a choice of model families (logistic regression, SVM, random forest), each with its
   own conditional hyperparameters, tuned by Bayesian optimization with 5-fold
   cross-validation; the best pipeline is refit on the training data
   and scored on a held-out test set.
3. A small Keras MLP (`keras_mlp.py`: depth, widths, dropout, learning rate) on data made
   here, tuned by Hyperband: trials stopped early, later rounds continue from the saved
   model of their parent; the best model is evaluated on held-out data.

Each prints the search space and the best trials in KerasTuner's format and leaves its
project folder under `demo_project/` with its store (`tunelab.sqlite`). Run it again and it
resumes: finished trials are kept and count toward max_trials. The last line printed is the
command that opens the live dashboard (`tunelab dashboard`) on these projects.
"""

from __future__ import annotations

import math
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import tunelab as kt


def objective(hp: kt.HyperParameters) -> dict[str, float]:
    """A stand-in for a training run: returns a loss and an accuracy-like metric."""
    lr = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    layers = hp.Int("layers", 1, 6, step=1)
    optimizer = hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        momentum = hp.Float("momentum", 0.0, 0.99)
    # The best region: lr near 3e-3, 3 layers, adam (or sgd with high momentum).
    loss = (math.log10(lr) + 2.5) ** 2 + 0.15 * (layers - 3) ** 2
    if optimizer == "sgd":
        loss += 0.5 * (1.0 - momentum)
    return {"val_loss": loss, "val_accuracy": 1.0 / (1.0 + loss)}


def pipeline(hp: kt.HyperParameters) -> Any:
    """A scaler, then one of three model families with its own hyperparameters."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.svm import SVC

    scaler = hp.Choice("scaler", ["standard", "minmax"])
    family = hp.Choice("model", ["logistic", "svm", "forest"])
    with hp.conditional_scope("model", ["logistic"]):
        if family == "logistic":
            model: Any = LogisticRegression(
                C=hp.Float("C", 1e-3, 1e2, sampling="log"), max_iter=1000
            )
    with hp.conditional_scope("model", ["svm"]):
        if family == "svm":
            model = SVC(
                C=hp.Float("svm_C", 1e-2, 1e3, sampling="log"),
                gamma=hp.Float("gamma", 1e-4, 1.0, sampling="log"),
            )
    with hp.conditional_scope("model", ["forest"]):
        if family == "forest":
            model = RandomForestClassifier(
                n_estimators=hp.Int("n_estimators", 20, 60, step=20),
                max_depth=hp.Int("max_depth", 2, 10),
                random_state=0,
            )
    return Pipeline(
        [("scale", StandardScaler() if scaler == "standard" else MinMaxScaler()), ("model", model)]
    )


def tune_pipeline() -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    tuner = kt.BayesianOptimization(
        pipeline,
        objective="score",  # the mean cross-validated score
        max_trials=15,
        seed=7,
        scoring="accuracy",
        cv=5,
        directory="demo_project",
        project_name="sklearn_pipeline",
    )
    tuner.search_space_summary()
    tuner.search(X_train, y_train, verbose=0)
    tuner.results_summary(num_trials=3)
    best = tuner.get_best_models(1)[0]  # refit on all the training data, saved with skops
    print(f"\nBest pipeline: {best}")
    print(f"Held-out test accuracy: {best.score(X_test, y_test):.4f}")


def tune_keras() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from keras_mlp import build_model, make_data  # examples/ is on sys.path when run

    x, y = make_data()
    tuner = kt.Hyperband(
        build_model,
        objective="val_accuracy",
        max_epochs=3,
        factor=3,
        hyperband_iterations=1,
        seed=0,
        directory="demo_project",
        project_name="keras_mlp",
    )
    tuner.search_space_summary()
    tuner.search(x[:500], y[:500], validation_split=0.2, batch_size=32, verbose=0)
    tuner.results_summary(num_trials=3)
    best = tuner.get_best_models(1)[0]
    loss, accuracy = best.evaluate(x[500:], y[500:], verbose=0)
    print(f"\nBest model on held-out data: loss {loss:.3f}, accuracy {accuracy:.3f}")


def dashboard_command() -> str:
    """The command that serves the demo's projects with `tunelab dashboard` (the `tunelab`
    script next to this Python, so that it works without activating the environment)."""
    script = Path(sys.executable).with_name("tunelab")
    if not script.exists():
        return "tunelab dashboard demo_project   # needs: pip install './packages/core[dashboard]'"
    shown = os.path.relpath(script)
    shown = shown if not shown.startswith("..") else str(script)
    return f"{shown} dashboard demo_project   # then open http://127.0.0.1:8080/"


def main() -> None:
    print("== 1. A black-box objective ==")
    tuner = kt.RandomSearch(
        objective,
        objective="val_loss",
        max_trials=25,
        seed=7,
        directory="demo_project",
        project_name="demo",
    )
    tuner.search_space_summary()
    tuner.search(verbose=0)
    tuner.results_summary(num_trials=3)
    best = tuner.get_best_hyperparameters()[0]
    store = Path(tuner.project_dir) / "tunelab.sqlite"
    with sqlite3.connect(store) as conn:
        count = conn.execute("SELECT COUNT(*) FROM trials WHERE status='COMPLETED'").fetchone()[0]
    print(f"\nBest hyperparameters: {best.values}")
    print(f"{count} completed trials are stored in {store}")
    print("\n== 2. A scikit-learn pipeline, cross-validated ==")
    tune_pipeline()
    print("\n== 3. A Keras model, tuned by Hyperband ==")
    tune_keras()
    print(f"\nWatch these projects live in a browser:\n    {dashboard_command()}")


if __name__ == "__main__":
    main()
