"""Hyperparameter importance: which hyperparameters the score depends on.

A random-forest regressor (written here with numpy only, so the core needs no scikit-learn)
learns score = f(hyperparameters) from the finished trials, on the unit-cube encoding that
every oracle uses. Two ways to read importance from it:

* ``"fanova"`` (default): the main effect of each hyperparameter, fANOVA-style. Its partial
  dependence (the forest's prediction averaged over the other hyperparameters as they were
  tried) is evaluated at each trial's value; the variance of that curve is the share of the
  score's variation the hyperparameter explains on its own.
* ``"permutation"``: how much worse the forest predicts the scores when one hyperparameter's
  values are shuffled among the trials.

Both are normalized to sum to 1. They rank hyperparameters; with few trials they are rough.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunelab.checks import check_int
from tunelab.results import Results, load_results

__all__ = ["RandomForest", "encode_trials", "hyperparameter_importance"]

METHODS = ("fanova", "permutation")
# Encoding of an inactive conditional hyperparameter: outside [0, 1], so trees can split
# "active or not" apart from any value.
INACTIVE = -1.0


def encode_trials(results: Results) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The finished trials as a matrix on the unit cube, and their scores.

    Returns the names of the tunable hyperparameters (Fixed ones and those never varied are
    left out), X of shape (trials, names) and y of shape (trials,).
    """
    trials = results.finished
    space = {hp.name: hp for hp in results.hyperparameters.space}
    names = [n for n in results.hyperparameter_names() if n in space and space[n].kind != "Fixed"]
    rows = []
    for trial in trials:
        values = trial.hyperparameters.active_values()
        row = []
        for name in names:
            if name not in values:
                row.append(INACTIVE)
                continue
            try:
                row.append(float(space[name].to_unit(values[name])))
            except (TypeError, ValueError):  # a value outside the current space
                row.append(INACTIVE)
        rows.append(row)
    X = np.asarray(rows, dtype=float).reshape(len(trials), len(names))
    y = np.asarray([t.score for t in trials], dtype=float)
    varied = [j for j in range(len(names)) if len(np.unique(X[:, j])) > 1]
    return [names[j] for j in varied], X[:, varied], y


class RandomForest:
    """A small random-forest regressor (CART trees on bootstrap samples, variance splits).

    Parameters
    ----------
    n_trees : int
        Number of trees.
    min_samples_leaf : int
        The fewest training points a leaf may hold.
    max_features : float
        Fraction of the features each split considers (at least one).
    seed : int, optional
        Same seed, same forest.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40).reshape(-1, 1)
    >>> forest = RandomForest(n_trees=8, seed=0).fit(X, (X[:, 0] > 0.5).astype(float))
    >>> forest.predict(np.array([[0.1], [0.9]])).round(2).tolist()
    [0.0, 1.0]
    """

    def __init__(
        self,
        n_trees: int = 64,
        min_samples_leaf: int = 2,
        max_features: float = 0.8,
        seed: int | None = 0,
    ) -> None:
        n_trees = check_int("n_trees", n_trees, 1)
        if not 0 < max_features <= 1:
            raise ValueError(f"max_features={max_features!r}; expected a fraction in (0, 1]")
        self.n_trees = n_trees
        self.min_samples_leaf = int(min_samples_leaf)
        self.max_features = max_features
        self.rng = np.random.default_rng(seed)
        # Each tree: arrays (feature, threshold, left, right, value); feature -1 is a leaf.
        self.trees: list[tuple[np.ndarray, ...]] = []

    def fit(self, X: np.ndarray, y: np.ndarray) -> RandomForest:
        n = len(y)
        self.trees = []
        for _ in range(self.n_trees):
            sample = self.rng.integers(0, n, n)
            self.trees.append(self._grow(X[sample], y[sample]))
        return self

    def _best_split(self, X: np.ndarray, y: np.ndarray) -> tuple[int, float] | None:
        n, d = X.shape
        leaf = self.min_samples_leaf
        k = max(1, int(round(self.max_features * d)))
        best, best_gain = None, 1e-12 * max(1.0, float(np.var(y)) * n)
        total, total_sq = y.sum(), (y * y).sum()
        for j in self.rng.permutation(d)[:k]:
            order = np.argsort(X[:, j], kind="stable")
            xs, ys = X[order, j], y[order]
            left_sum = np.cumsum(ys)[:-1]
            left_sq = np.cumsum(ys * ys)[:-1]
            counts = np.arange(1, n)
            # Squared error removed by splitting after position i (sum of both sides' SSE).
            sse = (left_sq - left_sum**2 / counts) + (
                (total_sq - left_sq) - (total - left_sum) ** 2 / (n - counts)
            )
            gain = (total_sq - total**2 / n) - sse
            valid = (xs[1:] > xs[:-1]) & (counts >= leaf) & (n - counts >= leaf)
            if not valid.any():
                continue
            gain = np.where(valid, gain, -np.inf)
            i = int(np.argmax(gain))
            if gain[i] > best_gain:
                best_gain = float(gain[i])
                best = (int(j), float((xs[i] + xs[i + 1]) / 2))
        return best

    def _grow(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        right: list[int] = []
        value: list[float] = []
        stack = [(np.arange(len(y)), -1, False)]
        while stack:
            rows, parent, is_right = stack.pop()
            node = len(feature)
            if parent >= 0:
                (right if is_right else left)[parent] = node
            feature.append(-1)
            threshold.append(0.0)
            left.append(-1)
            right.append(-1)
            value.append(float(y[rows].mean()))
            if len(rows) < 2 * self.min_samples_leaf or np.ptp(y[rows]) == 0:
                continue
            split = self._best_split(X[rows], y[rows])
            if split is None:
                continue
            j, cut = split
            feature[node], threshold[node] = j, cut
            goes_left = X[rows, j] <= cut
            stack.append((rows[~goes_left], node, True))
            stack.append((rows[goes_left], node, False))
        return (
            np.asarray(feature),
            np.asarray(threshold),
            np.asarray(left),
            np.asarray(right),
            np.asarray(value),
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The mean prediction of the trees for each row of X."""
        if not self.trees:
            raise RuntimeError("the forest is not fitted: call fit(X, y) first")
        out = np.zeros(len(X))
        rows = np.arange(len(X))
        for feature, threshold, left, right, value in self.trees:
            node = np.zeros(len(X), dtype=int)
            while True:
                inner = feature[node] >= 0
                if not inner.any():
                    break
                at = node[inner]
                go_left = X[rows[inner], feature[at]] <= threshold[at]
                node[inner] = np.where(go_left, left[at], right[at])
            out += value[node]
        return out / len(self.trees)


def _main_effects(forest: RandomForest, X: np.ndarray) -> np.ndarray:
    effects = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        grid = np.unique(X[:, j])
        if len(grid) > 32:  # enough points to trace the curve
            grid = np.unique(np.quantile(X[:, j], np.linspace(0, 1, 32)))
        batch = np.repeat(X[None, :, :], len(grid), axis=0)
        batch[:, :, j] = grid[:, None]
        curve = forest.predict(batch.reshape(-1, X.shape[1])).reshape(len(grid), len(X))
        dependence = curve.mean(axis=1)
        # Weighted by how often each value was tried: the curve at the trials' values.
        at_trials = dependence[np.searchsorted(grid, X[:, j]).clip(0, len(grid) - 1)]
        effects[j] = float(np.var(at_trials))
    return effects


def _permutation(forest: RandomForest, X: np.ndarray, y: np.ndarray, repeats: int) -> np.ndarray:
    base = float(np.mean((forest.predict(X) - y) ** 2))
    effects = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        losses = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[:, j] = forest.rng.permutation(shuffled[:, j])
            losses.append(float(np.mean((forest.predict(shuffled) - y) ** 2)))
        effects[j] = max(0.0, float(np.mean(losses)) - base)
    return effects


def hyperparameter_importance(
    source: Any,
    method: str = "fanova",
    n_trees: int = 64,
    seed: int | None = 0,
    repeats: int = 5,
) -> dict[str, float]:
    """How much each hyperparameter matters to the score, most important first.

    Parameters
    ----------
    source : BaseTuner, Oracle, project path or list of Trial
        The finished trials (COMPLETED or STOPPED with a finite score) are used; at least 3.
    method : {"fanova", "permutation"}
        Main-effect variance (fANOVA-style) or permutation importance, both on a random
        forest fitted to the trials (see the module docstring).
    n_trees : int
        Trees in the forest.
    seed : int, optional
        Same seed, same importances.
    repeats : int
        Shuffles per hyperparameter for ``"permutation"``.

    Returns
    -------
    dict of str to float
        Importances that sum to 1 (all 0 when the score did not vary), sorted in descending
        order. Hyperparameters that never varied are left out.

    Examples
    --------
    >>> import tunelab as kt
    >>> def objective(hp):
    ...     return hp.Float("x", -1, 1) ** 2 + 0.01 * hp.Float("y", -1, 1)
    >>> tuner = kt.RandomSearch(objective, objective="loss", max_trials=30, seed=0,
    ...                         directory="/tmp/tunelab-doc", project_name="imp", overwrite=True)
    >>> tuner.search(verbose=0)
    >>> next(iter(hyperparameter_importance(tuner)))
    'x'
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}; expected one of {METHODS}")
    repeats = check_int("repeats", repeats, 1)
    results = load_results(source)
    names, X, y = encode_trials(results)
    if len(y) < 3:
        raise ValueError(
            f"hyperparameter importance needs at least 3 finished trials with a score; "
            f"this search has {len(y)} (of {len(results.trials)} trials)"
        )
    if not names:
        return {}
    if float(np.ptp(y)) == 0.0:
        return {name: 0.0 for name in names}
    forest = RandomForest(n_trees=n_trees, seed=seed).fit(X, y)
    effects = (
        _main_effects(forest, X) if method == "fanova" else _permutation(forest, X, y, repeats)
    )
    total = float(effects.sum())
    shares = effects / total if total > 0 and math.isfinite(total) else np.zeros_like(effects)
    ranked = sorted(zip(names, shares.tolist(), strict=True), key=lambda item: -item[1])
    return dict(ranked)
