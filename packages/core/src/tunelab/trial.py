"""A trial: one set of hyperparameter values, its status, and the metrics it reported."""

from __future__ import annotations

import math
from typing import Any, Protocol

from tunelab.hyperparameters import HyperParameters

__all__ = ["MetricHistory", "MetricObservation", "MetricsTracker", "Trial", "TrialStatus"]


class TrialStatus:
    """The states of a trial (KerasTuner's names).

    RUNNING: handed out and not finished. IDLE: waiting to run (again). COMPLETED: finished
    with a score. INVALID: finished without a usable score (NaN or infinite, or rejected by
    the backend, e.g. a model over `max_model_size`). STOPPED: stopped early by the oracle
    (Hyperband/ASHA) with a score. FAILED: raised an error and has no retries left.
    """

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    ALL = (RUNNING, IDLE, INVALID, STOPPED, COMPLETED, FAILED)
    FINISHED = (INVALID, STOPPED, COMPLETED, FAILED)


class MetricObservation:
    """The values reported for one step: one per execution of the trial."""

    def __init__(self, value: float | list[float], step: int) -> None:
        self.value = [float(v) for v in value] if isinstance(value, list) else [float(value)]
        self.step = int(step)

    def append(self, value: float | list[float]) -> None:
        self.value.extend(value if isinstance(value, list) else [float(value)])

    def mean(self) -> float:
        return math.fsum(self.value) / len(self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": list(self.value), "step": self.step}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricObservation:
        return cls(list(config["value"]), config["step"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MetricObservation) and (self.value, self.step) == (
            other.value,
            other.step,
        )

    def __repr__(self) -> str:
        return f"MetricObservation(value={self.value}, step={self.step})"


class MetricHistory:
    """All observations of one metric, by step, and which one is best."""

    def __init__(self, direction: str = "min") -> None:
        if direction not in ("min", "max"):
            raise ValueError(f"direction={direction!r}; expected 'min' or 'max'")
        self.direction = direction
        self._observations: dict[int, MetricObservation] = {}

    def update(self, value: float | list[float], step: int = 0) -> None:
        step = int(step)
        if step in self._observations:
            self._observations[step].append(value)
        else:
            self._observations[step] = MetricObservation(value, step)

    def get_history(self) -> list[MetricObservation]:
        return [self._observations[s] for s in sorted(self._observations)]

    def _best(self) -> MetricObservation | None:
        finite = [o for o in self.get_history() if math.isfinite(o.mean())]
        if not finite:
            history = self.get_history()
            return history[-1] if history else None
        pick = max if self.direction == "max" else min
        return pick(finite, key=lambda o: o.mean())

    def get_best_value(self) -> float | None:
        best = self._best()
        return None if best is None else best.mean()

    def get_best_step(self) -> int | None:
        best = self._best()
        return None if best is None else best.step

    def get_last_value(self) -> float | None:
        history = self.get_history()
        return history[-1].mean() if history else None

    @property
    def value(self) -> list[float]:
        """The per-execution values at the best step (for code written as `.value[0]`)."""
        best = self._best()
        return [] if best is None else list(best.value)

    def get_config(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "observations": [o.get_config() for o in self.get_history()],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricHistory:
        history = cls(config["direction"])
        for item in config["observations"]:
            history._observations[int(item["step"])] = MetricObservation.from_config(item)
        return history


class MetricsTracker:
    """The metric histories of one trial, by name."""

    def __init__(self) -> None:
        self.metrics: dict[str, MetricHistory] = {}

    def exists(self, name: str) -> bool:
        return name in self.metrics

    def register(self, name: str, direction: str | None = None) -> None:
        if name not in self.metrics:
            from tunelab.objective import infer_direction

            self.metrics[name] = MetricHistory(direction or infer_direction(name) or "min")

    def update(self, name: str, value: float | list[float], step: int = 0) -> None:
        self.register(name)
        self.metrics[name].update(value, step)

    def get_history(self, name: str) -> list[MetricObservation]:
        return self.metrics[name].get_history()

    def get_best_value(self, name: str) -> float | None:
        return self.metrics[name].get_best_value() if name in self.metrics else None

    def get_last_value(self, name: str) -> float | None:
        return self.metrics[name].get_last_value() if name in self.metrics else None

    def get_config(self) -> dict[str, Any]:
        return {"metrics": {name: h.get_config() for name, h in self.metrics.items()}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricsTracker:
        tracker = cls()
        for name, item in config.get("metrics", {}).items():
            tracker.metrics[name] = MetricHistory.from_config(item)
        return tracker


class _TakesReports(Protocol):
    """What a running trial reports to (the oracle that asked it)."""

    def update_trial(self, trial: Trial, metrics: Any, step: int = 0) -> str: ...


class Trial:
    """One evaluation of a set of hyperparameter values.

    Attributes
    ----------
    trial_id : str
    hyperparameters : HyperParameters
        The space and the values of this trial.
    status : str
        One of `TrialStatus`.
    metrics : MetricsTracker
        Every reported metric, per step.
    score : float or None
        The objective's best value over the steps.
    best_step : int or None
        The step with the best objective value.
    message : str or None
        The error and traceback of a failed trial.
    """

    def __init__(
        self,
        hyperparameters: HyperParameters,
        trial_id: str | None = None,
        status: str = TrialStatus.RUNNING,
        message: str | None = None,
    ) -> None:
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.status = status
        self.message = message
        self.metrics = MetricsTracker()
        self.score: float | None = None
        self.best_step: int | None = None
        self.retries = 0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.number: int | None = None
        self._oracle: _TakesReports | None = None

    # -- reporting during a run (ask/tell and pruning) ----------------------------------
    def report(self, value: float | dict[str, float], step: int) -> str:
        """Report an intermediate value (or dict of metrics) at `step`; returns the status.

        A status of STOPPED means the oracle asks the trial to stop early (see
        `should_stop`).
        """
        if self._oracle is None:
            raise RuntimeError(
                f"trial {self.trial_id!r} is not attached to an oracle; report through "
                "the oracle that asked it"
            )
        self.status = self._oracle.update_trial(self, value, step=step)
        return self.status

    def should_stop(self) -> bool:
        """True when the oracle asked this trial to stop early."""
        return self.status == TrialStatus.STOPPED

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    # -- display and config -------------------------------------------------------------
    def summary(self) -> None:
        """Print this trial as KerasTuner does (the block `results_summary` prints)."""
        print(self.summary_text())

    def summary_text(self) -> str:
        """What `summary` prints: the id, the hyperparameter values (``default
        configuration`` when there are none), the score, and the error of a failed trial."""
        lines = [f"Trial {self.trial_id} summary", "Hyperparameters:"]
        values = self.hyperparameters.active_values()
        lines += [f"{name}: {value}" for name, value in values.items()]
        if not values:
            lines.append("default configuration")
        if self.score is not None:
            lines.append(f"Score: {self.score}")
        if self.status in (TrialStatus.FAILED, TrialStatus.INVALID) and self.message:
            lines.append(self.message.rstrip())
        return "\n".join(lines)

    def display_hyperparameters(self) -> None:
        """Print the hyperparameter values, one ``name: value`` a line (KerasTuner's)."""
        values = self.hyperparameters.active_values()
        print(
            "\n".join(f"{name}: {value}" for name, value in values.items())
            or "default configuration"
        )

    def display_summary(self) -> None:
        self.summary()

    def get_config(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "hyperparameters": self.hyperparameters.get_config(),
            "status": self.status,
            "metrics": self.metrics.get_config(),
            "score": self.score,
            "best_step": self.best_step,
            "message": self.message,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Trial:
        trial = cls(
            HyperParameters.from_config(config["hyperparameters"]),
            trial_id=config["trial_id"],
            status=config["status"],
            message=config.get("message"),
        )
        trial.metrics = MetricsTracker.from_config(config["metrics"])
        trial.score = config.get("score")
        trial.best_step = config.get("best_step")
        return trial

    def __repr__(self) -> str:
        return (
            f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, "
            f"score={self.score!r}, values={self.hyperparameters.values!r})"
        )
