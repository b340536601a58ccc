"""KerasTuner's `keras_tuner.engine.metrics_tracking`: `MetricsTracker` and
`infer_metric_direction`.

The tracker here is KerasTuner's strict one, for code that builds its own (custom oracles
and tuners, their tests): `register` refuses a name twice and reading an unknown metric
raises a ValueError. A trial's own ``trial.metrics`` is the lenient `tunelab.trial`
tracker, which this one extends, so both read the same configs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tunelab import trial
from tunelab.objective import infer_direction
from tunelab.trial import MetricObservation

__all__ = ["MetricHistory", "MetricObservation", "MetricsTracker", "infer_metric_direction"]

_DIRECTIONS = ("min", "max")


def infer_metric_direction(metric: Any) -> str | None:
    """``"max"``, ``"min"``, or None when the metric's name does not tell.

    Parameters
    ----------
    metric : str, metric object or function
        A metric name (``"val_accuracy"``), or anything with a ``name`` or ``__name__``
        (a Keras metric, a metric function); the ``val_`` and ``weighted_`` prefixes are
        ignored.

    Examples
    --------
    >>> infer_metric_direction("val_accuracy"), infer_metric_direction("weighted_loss")
    ('max', 'min')
    >>> print(infer_metric_direction("my_metric"))
    None
    """
    name = metric if isinstance(metric, str) else _metric_name(metric)
    for prefix in ("val_", "weighted_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return infer_direction(name)


def _metric_name(metric: Any) -> str:
    if isinstance(metric, str):
        return metric
    for attribute in ("name", "__name__"):
        name = getattr(metric, attribute, None)
        if isinstance(name, str):
            return name
    raise TypeError(
        f"metric {metric!r}: expected a metric name or an object with a `name` "
        "(a Keras metric) or a `__name__` (a function)"
    )


class MetricHistory(trial.MetricHistory):
    """The observations of one metric, by step (KerasTuner's, with `set_history` and
    `get_statistics`)."""

    def set_history(self, observations: Iterable[MetricObservation]) -> None:
        """Add `observations` (values at the same step are appended, as by `update`)."""
        for observation in observations:
            self.update(list(observation.value), step=observation.step)

    def get_statistics(self) -> dict[str, float]:
        """``min``, ``max``, ``mean``, ``median``, ``var`` and ``std`` of the per-step
        means, NaNs ignored; ``{}`` before any observation."""
        means = np.array([o.mean() for o in self.get_history()], dtype=np.float64)
        if not len(means):
            return {}
        return {
            "min": float(np.nanmin(means)),
            "max": float(np.nanmax(means)),
            "mean": float(np.nanmean(means)),
            "median": float(np.nanmedian(means)),
            "var": float(np.nanvar(means)),
            "std": float(np.nanstd(means)),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricHistory:
        history = cls(config["direction"])
        history.set_history(MetricObservation.from_config(o) for o in config["observations"])
        return history


class MetricsTracker(trial.MetricsTracker):
    """The histories of several metrics, by name (KerasTuner's `MetricsTracker`).

    Parameters
    ----------
    metrics : list, optional
        Metrics to register now: names, or objects with a ``name`` (Keras metrics).

    Examples
    --------
    >>> tracker = MetricsTracker(metrics=["val_accuracy"])
    >>> tracker.update("val_accuracy", 0.5, step=0)
    True
    >>> tracker.update("val_accuracy", 0.4, step=1)  # not better than 0.5
    False
    >>> tracker.get_best_value("val_accuracy"), tracker.get_last_value("val_accuracy")
    (0.5, 0.4)
    >>> tracker.get_statistics("val_accuracy")["mean"]
    0.45
    >>> tracker.get_best_value("loss")
    Traceback (most recent call last):
    ...
    ValueError: Unknown metric 'loss': the tracker has ['val_accuracy']
    """

    metrics: dict[str, MetricHistory]  # type: ignore[assignment]

    def __init__(self, metrics: Iterable[Any] | None = None) -> None:
        super().__init__()
        self.register_metrics(metrics)

    def register_metrics(self, metrics: Iterable[Any] | None = None) -> None:
        """Register each of `metrics` (names or objects with a ``name``)."""
        for metric in metrics or []:
            self.register(_metric_name(metric))

    def register(self, name: str, direction: str | None = None) -> None:
        """Start the history of `name`; its direction is inferred from the name when not
        given (``"min"`` when the name does not tell)."""
        if self.exists(name):
            raise ValueError(
                f"Metric {name!r} already exists: register() takes each name once "
                "(update() and set_history() register a new name themselves)"
            )
        if direction is None:
            direction = infer_metric_direction(name) or "min"
        elif direction not in _DIRECTIONS:
            raise ValueError(
                f"direction={direction!r} for metric {name!r}; expected 'min' or 'max'"
            )
        self.metrics[name] = MetricHistory(direction)

    def update(self, name: str, value: float | list[float], step: int = 0) -> bool:  # type: ignore[override]
        """Record `value` at `step` (registering `name` if new); True when the metric's
        best value changed."""
        if not self.exists(name):
            self.register(name)
        history = self.metrics[name]
        before = history.get_best_value()
        history.update(value, step=step)
        after = history.get_best_value()
        return not _same(before, after)

    def set_history(self, name: str, observations: Iterable[MetricObservation]) -> None:
        """Add `observations` (`MetricObservation` objects) to the history of `name`."""
        if not self.exists(name):
            self.register(name)
        self.metrics[name].set_history(observations)

    def _history(self, name: str) -> MetricHistory:
        if name not in self.metrics:
            raise ValueError(f"Unknown metric {name!r}: the tracker has {sorted(self.metrics)}")
        return self.metrics[name]

    def get_history(self, name: str) -> list[MetricObservation]:
        """The observations of `name`, by step."""
        return self._history(name).get_history()

    def get_best_value(self, name: str) -> float | None:
        """The best per-step mean of `name` (None before any observation)."""
        return self._history(name).get_best_value()

    def get_best_step(self, name: str) -> int | None:
        """The step of the best value of `name`."""
        return self._history(name).get_best_step()

    def get_last_value(self, name: str) -> float | None:
        """The mean at the last step of `name`."""
        return self._history(name).get_last_value()

    def get_statistics(self, name: str) -> dict[str, float]:
        """See `MetricHistory.get_statistics`."""
        return self._history(name).get_statistics()

    def get_direction(self, name: str) -> str:
        """``"min"`` or ``"max"``."""
        return self._history(name).direction

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricsTracker:
        tracker = cls()
        for name, item in config.get("metrics", {}).items():
            tracker.metrics[name] = MetricHistory.from_config(item)
        return tracker


def _same(a: float | None, b: float | None) -> bool:
    # NaN is no improvement over NaN.
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))
