"""Training tasks whose models are checkpointed between calls, for the Hyperband benchmark.

A configuration's model is kept after each call and trained further when a longer training
is asked for, exactly like a trial that continues its parent's checkpoint: the score after
``e`` epochs is the same whether the model was trained ``e`` epochs at once or in steps, and
each epoch is computed once. Scores are validation log-losses (continuous, no ties) and, for
reference, validation errors (1 - accuracy).

* `MLPDigits`: scikit-learn's MLPClassifier (one hidden layer, Adam) on the 1,797 digits
  images, 2/3 for training and 1/3 for validation; one epoch = one ``partial_fit`` pass.
* `GBBreastCancer`: GradientBoostingClassifier on breast_cancer with 3-fold CV; one epoch =
  5 boosting stages, added with ``warm_start`` (no subsampling: the stages are deterministic).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["GBBreastCancer", "MLPDigits"]


def _log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


class _Checkpointed:
    """Scores of configurations by epochs, from models kept between calls."""

    def __init__(self) -> None:
        self._models: dict[tuple[Any, ...], list[Any]] = {}
        self._done: dict[tuple[Any, ...], int] = {}
        self._scores: dict[tuple[Any, ...], list[tuple[float, float]]] = {}
        self.epochs_trained = 0  # epochs actually computed (each at most once)

    def __call__(self, values: dict[str, Any], epochs: int, metric: str = "log_loss") -> float:
        key = tuple(sorted(values.items()))
        if key not in self._models:
            self._models[key] = self.build(values)
            self._done[key], self._scores[key] = 0, []
        while self._done[key] < epochs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow in a diverging MLP, convergence
                self._scores[key].append(self.train_epoch(self._models[key]))
            self._done[key] += 1
            self.epochs_trained += 1
        log_loss, error = self._scores[key][epochs - 1]
        return log_loss if metric == "log_loss" else error

    def build(self, values: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def train_epoch(self, models: list[Any]) -> tuple[float, float]:
        raise NotImplementedError


class MLPDigits(_Checkpointed):
    """MLP on digits: validation log-loss after `epochs` passes of Adam."""

    def __init__(self) -> None:
        super().__init__()
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        X_train, X_val, self.y_train, self.y_val = train_test_split(
            X, y, test_size=1 / 3, stratify=y, random_state=0
        )
        scaler = StandardScaler().fit(X_train)
        self.X_train, self.X_val = scaler.transform(X_train), scaler.transform(X_val)
        self.classes = np.unique(y)

    def build(self, values: dict[str, Any]) -> list[Any]:
        from sklearn.neural_network import MLPClassifier

        return [
            MLPClassifier(
                hidden_layer_sizes=(values["units"],),
                learning_rate_init=values["learning_rate"],
                alpha=values["alpha"],
                batch_size=values["batch_size"],
                random_state=0,
            )
        ]

    def train_epoch(self, models: list[Any]) -> tuple[float, float]:
        (model,) = models
        model.partial_fit(self.X_train, self.y_train, classes=self.classes)
        proba = model.predict_proba(self.X_val)
        if not np.all(np.isfinite(proba)):  # a diverged network: as bad as a constant guess
            return float(np.log(len(self.classes))) * 10, 1.0
        error = float(np.mean(proba.argmax(axis=1) != self.y_val))
        return _log_loss(proba, self.y_val), error


class GBBreastCancer(_Checkpointed):
    """GradientBoosting on breast_cancer: 3-fold CV log-loss after `epochs` x 5 stages."""

    stages_per_epoch = 5

    def __init__(self) -> None:
        super().__init__()
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import StratifiedKFold

        self.X, self.y = load_breast_cancer(return_X_y=True)
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        self.folds = list(folds.split(self.X, self.y))

    def build(self, values: dict[str, Any]) -> list[Any]:
        from sklearn.ensemble import GradientBoostingClassifier

        return [
            GradientBoostingClassifier(
                learning_rate=values["learning_rate"],
                n_estimators=0,
                max_depth=values["max_depth"],
                min_samples_leaf=values["min_samples_leaf"],
                warm_start=True,
                random_state=0,
            )
            for _ in self.folds
        ]

    def train_epoch(self, models: list[Any]) -> tuple[float, float]:
        losses, errors = [], []
        for model, (train, test) in zip(models, self.folds, strict=True):
            model.n_estimators += self.stages_per_epoch
            model.fit(self.X[train], self.y[train])
            proba = model.predict_proba(self.X[test])
            losses.append(_log_loss(proba, self.y[test]))
            errors.append(float(np.mean(proba.argmax(axis=1) != self.y[test])))
        return float(np.mean(losses)), float(np.mean(errors))
