"""Hyperband budgets for scikit-learn: what an "epoch" buys an estimator.

Hyperband gives each trial a budget in epochs (``tuner/epochs``, up to ``max_epochs``).
scikit-learn estimators have no epochs, so the backend option ``resource`` says what the
budget scales:

- an estimator parameter, e.g. ``resource="n_estimators"`` (trees of a forest or boosting
  rounds) or ``"max_iter"``: the parameter is set to ``epochs * resource_per_epoch``. In a
  Pipeline, ``"n_estimators"`` finds the one step that has it (or name it in full,
  ``"randomforestclassifier__n_estimators"``).
- ``"n_samples"``: each fold trains on ``epochs / max_epochs`` of its training rows (nested
  subsamples, stratified for classifiers, so a larger budget adds rows) and is scored on the
  whole test fold.

A trial that continues one of the previous round (``tuner/trial_id``) continues that
trial's fold models with ``warm_start`` when adding to the resource only adds work: trees of
the ensembles in ``sklearn.ensemble`` and iterations of ``HistGradientBoosting*``. The fold
models are kept in this process's memory (`FoldModelCache`); a resumed search, or any
other estimator, fits from scratch at the new budget, which gives the same kind of model.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import is_classifier

__all__ = ["Budget", "FoldModelCache", "nested_subsample", "resource_parameter"]

N_SAMPLES = "n_samples"


def resource_parameter(estimator: Any, resource: str) -> str:
    """The full parameter name (``step__name`` in a Pipeline) that `resource` refers to.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> resource_parameter(make_pipeline(StandardScaler(), RandomForestClassifier()),
    ...                    "n_estimators")
    'randomforestclassifier__n_estimators'
    """
    params = estimator.get_params(deep=True)
    if resource in params:
        return resource
    matches = sorted(name for name in params if name.endswith(f"__{resource}"))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(
            f"resource={resource!r} is not a parameter of {type(estimator).__name__}; "
            f"expected {N_SAMPLES!r} or one of its integer parameters such as "
            "'n_estimators' or 'max_iter' (when model families differ, budget them all "
            "with resource='n_samples')"
        )
    raise ValueError(
        f"resource={resource!r} matches several parameters {matches}; name "
        "the one to budget in full"
    )


def _owner(estimator: Any, parameter: str) -> tuple[Any, str]:
    """The (sub-)estimator that has `parameter`, and its name there."""
    if "__" not in parameter:
        return estimator, parameter
    path, name = parameter.rsplit("__", 1)
    return estimator.get_params(deep=True)[path], name


def warm_startable(estimator: Any, parameter: str) -> bool:
    """Whether raising `parameter` with ``warm_start=True`` continues the fitted model, only
    adding trees or boosting iterations (not restarting a solver for max_iter more)."""
    owner, name = _owner(estimator, parameter)
    if "warm_start" not in owner.get_params(deep=False):
        return False
    module = type(owner).__module__
    if name == "n_estimators":
        return module.startswith("sklearn.ensemble")
    return name == "max_iter" and type(owner).__name__.startswith("HistGradientBoosting")


def nested_subsample(
    train: np.ndarray, fraction: float, y: Any, stratify: bool, seed: int
) -> np.ndarray:
    """The first `fraction` of a fixed order of `train`: a larger fraction keeps the rows of
    a smaller one. For a classifier the order interleaves the classes, so every class is
    in even a small subsample in proportion.

    Examples
    --------
    >>> rows = nested_subsample(np.arange(10), 0.5, np.array([0, 1] * 5), True, 0)
    >>> len(rows), sorted(np.array([0, 1] * 5)[rows])
    (5, [0, 0, 1, 1, 1])
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    if stratify and y is not None:
        labels = np.asarray(y)[train][order]
        _, codes, counts = np.unique(labels, return_inverse=True, return_counts=True, axis=0)
        codes = codes.reshape(-1)
        rank = np.empty(len(order))
        for code, count in enumerate(counts):
            where = np.flatnonzero(codes == code)
            rank[where] = (np.arange(count) + 0.5) / count
        order = order[np.argsort(rank, kind="stable")]
    size = max(2, math.ceil(fraction * len(train)))
    return np.sort(train[order[:size]])


@dataclass(frozen=True)
class Budget:
    """What one Hyperband trial may spend, translated for scikit-learn.

    Attributes
    ----------
    resource : str
        ``"n_samples"`` or the full name of the budgeted parameter.
    value : float
        The parameter's value, or the fraction of training rows.
    warm_start : bool
        Whether the parent's fold models can be continued.
    """

    resource: str
    value: float
    warm_start: bool

    @classmethod
    def for_trial(
        cls, estimator: Any, resource: str, per_epoch: float, epochs: Any, max_epochs: int | None
    ) -> Budget:
        """The budget of a trial trained for `epochs` (of `max_epochs`) on `estimator`."""
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs={epochs!r}; expected an int >= 1")
        if resource == N_SAMPLES:
            if not max_epochs:
                raise ValueError(
                    "resource='n_samples' needs the tuner's max_epochs (use "
                    "kt.Hyperband) to turn epochs into a fraction of the rows"
                )
            return cls(N_SAMPLES, min(1.0, epochs / max_epochs), False)
        parameter = resource_parameter(estimator, resource)
        value = max(1, round(epochs * per_epoch))
        return cls(parameter, value, warm_startable(estimator, parameter))

    def apply(self, estimator: Any) -> Any:
        """Set the budgeted parameter on `estimator` (nothing for ``n_samples``)."""
        if self.resource != N_SAMPLES:
            estimator.set_params(**{self.resource: int(self.value)})
        return estimator

    def splits(self, splits: list, y: Any, estimator: Any) -> list:
        """The folds with their training rows subsampled (``n_samples`` only)."""
        if self.resource != N_SAMPLES or self.value >= 1.0:
            return splits
        stratify = is_classifier(estimator)
        return [
            (nested_subsample(train, self.value, y, stratify, seed=k), test)
            for k, (train, test) in enumerate(splits)
        ]

    def continue_from(self, fold_models: list[Any]) -> list[Any]:
        """The parent's fold models set to grow to this budget (``warm_start=True``)."""
        owner_path = self.resource.rsplit("__", 1)[0] if "__" in self.resource else None
        warm = f"{owner_path}__warm_start" if owner_path else "warm_start"
        return [self.apply(model.set_params(**{warm: True})) for model in fold_models]


def _configuration(values: dict[str, Any]) -> str:
    """A trial's values without Hyperband's own entries: equal for a parent and its child."""
    return repr(sorted((k, repr(v)) for k, v in values.items() if not k.startswith("tuner/")))


class FoldModelCache:
    """Fitted fold models of recent Hyperband trials, so that the next round continues them.

    In memory only (models are not files a search must keep): bounded by `max_trials`,
    oldest first, and an entry is dropped once a child trial has taken it (Hyperband
    continues each trial at most once). An entry is given only to a trial with the same
    configuration, so a project started anew never continues a model of its old trials.
    """

    def __init__(self, max_trials: int = 128) -> None:
        self.max_trials = max_trials
        self._models: OrderedDict[tuple[str, str], tuple[str, list[Any]]] = OrderedDict()

    def put(self, project: str, trial: Any, models: list[Any]) -> None:
        key = (project, trial.trial_id)
        self._models[key] = (_configuration(trial.hyperparameters.values), models)
        while len(self._models) > self.max_trials:
            self._models.popitem(last=False)

    def take(self, project: str, trial: Any) -> list[Any] | None:
        """The fold models of the trial that `trial` continues, if this process has them."""
        values = trial.hyperparameters.values
        entry = self._models.pop((project, values.get("tuner/trial_id")), None)
        if entry is None or entry[0] != _configuration(values):
            return None
        return entry[1]

    def __len__(self) -> int:
        return len(self._models)
