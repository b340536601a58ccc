"""One trial of a Keras model: compile overrides, executions, and the trial's result."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import keras

from tunelab.errors import FatalError
from tunelab.hypermodel import FunctionHyperModel, HyperModel
from tunelab.objective import DEFAULT_OBJECTIVE, Objective
from tunelab.trial import Trial
from tunelab_keras.callbacks import TrialReporter, check_model_size, copy_callbacks, numeric_logs
from tunelab_keras.options import KerasOptions

__all__ = ["ExecutionResult", "SearchInputError", "apply_compile_overrides", "fit_execution"]

_VALIDATION_ARGS = ("validation_data", "validation_split")


class SearchInputError(FatalError, ValueError):
    """The search cannot work as asked (wrong objective, uncompiled model...): it stops."""


@dataclass
class ExecutionResult:
    """What one execution (one fit) of a trial left."""

    history: dict[str, list[float]] = field(default_factory=dict)
    returned: Any = None  # a number or dict returned by a custom HyperModel.fit
    best_value: float | None = None
    best_epoch: int | None = None
    best_weights: list[Any] | None = None
    reported: bool = False
    stopped: bool = False


def _copy_optimizer(optimizer: Any) -> Any:
    """A fresh optimizer with the same settings: one instance cannot train two models."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).from_config(optimizer.get_config())
    return optimizer


def apply_compile_overrides(model: Any, settings: KerasOptions) -> None:
    """Compile `model` with the tuner's optimizer/loss/metrics in place of its own."""
    compiled = bool(getattr(model, "compiled", False))
    if not settings.overrides_compile:
        if not compiled:
            raise SearchInputError(
                "the hypermodel returned a model that is not compiled; call model.compile(...) "
                "in build(hp), or pass loss= (and optimizer=, metrics=) to the tuner"
            )
        return
    config = dict(getattr(getattr(model, "_compile_config", None), "config", None) or {})
    if not compiled:
        config = {}
    if settings.loss is None and "loss" not in config:
        raise SearchInputError(
            "the hypermodel returned a model that is not compiled and the tuner has no loss= "
            "to compile it with; pass loss= to the tuner or compile the model in build(hp)"
        )
    if settings.optimizer is not None:
        config["optimizer"] = _copy_optimizer(settings.optimizer)
    elif compiled and getattr(model, "optimizer", None) is not None:
        config["optimizer"] = _copy_optimizer(model.optimizer)
    else:
        config.setdefault("optimizer", "adam")
    if settings.loss is not None:
        config["loss"] = settings.loss
    if settings.metrics is not None:
        config["metrics"] = settings.metrics
    model.compile(**config)


def default_objective(oracle: Any, fit_kwargs: dict[str, Any]) -> None:
    """KerasTuner's default objective: ``val_loss`` (``loss`` without validation data)."""
    if oracle.objective.name != DEFAULT_OBJECTIVE:
        return
    has_validation = any(fit_kwargs.get(k) is not None for k in _VALIDATION_ARGS)
    oracle.objective = Objective("val_loss" if has_validation else "loss", "min")
    oracle.study.storage.set_meta("objective", oracle.objective.get_config())


def check_validation(objective: Any, hypermodel: Any, fit_kwargs: dict[str, Any]) -> None:
    """A ``val_`` objective needs validation data, unless a custom fit provides it."""
    if any(fit_kwargs.get(k) is not None for k in _VALIDATION_ARGS):
        return
    custom_fit = (
        isinstance(hypermodel, HyperModel)
        and not isinstance(hypermodel, FunctionHyperModel)
        and type(hypermodel).fit is not HyperModel.fit
    )
    if custom_fit:
        return  # its fit may add validation data itself
    needing = [n for n in objective.names if n.startswith("val_")]
    if needing:
        raise SearchInputError(
            f"objective {needing} is computed on validation data, but search() got neither "
            "validation_data= nor validation_split=; pass one, or choose a training metric "
            "such as objective='loss'"
        )


def check_objective_logged(objective: Any, result: ExecutionResult) -> None:
    """The objective must be among the logged metrics (or returned by a custom fit)."""
    returned = result.returned
    if isinstance(returned, dict) and objective.has_value(returned):
        return
    if returned is not None and not isinstance(returned, dict):
        return  # a number is the objective's value
    if objective.has_value({k: 0 for k in result.history}):
        return
    raise SearchInputError(
        f"the objective {objective.names} was never logged by model.fit; the logged metrics "
        f"are {sorted(result.history)}. Pass one of them as objective= (or add the metric to "
        "model.compile(metrics=...))"
    )


@contextlib.contextmanager
def build_scope(settings: KerasOptions) -> Iterator[None]:
    """Where models are built and trained: the strategy's scope, the dtype policy."""
    previous = None
    if settings.mixed_precision:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy("mixed_float16")
    try:
        if settings.distribution_strategy is not None:
            with settings.distribution_strategy.scope():
                yield
        else:
            yield
    finally:
        if previous is not None:
            keras.config.set_dtype_policy(previous)


def _fit_kwargs(
    tuner: Any, trial: Trial, kwargs: dict[str, Any], execution: int, reporter: TrialReporter
) -> dict[str, Any]:
    out = dict(kwargs)
    out["callbacks"] = [*copy_callbacks(kwargs.get("callbacks"), trial, execution), reporter]
    return out


def fit_execution(
    tuner: Any,
    trial: Trial,
    model: Any,
    args: tuple,
    kwargs: dict[str, Any],
    settings: KerasOptions,
    execution: int,
) -> ExecutionResult:
    """Train `model` once (`hypermodel.fit`, by default `model.fit`) and collect what it
    reported."""
    if settings.overrides_compile or not getattr(model, "compiled", False):
        apply_compile_overrides(model, settings)
    check_model_size(model, settings.max_model_size)
    batch_hooks = _defines_batch_hooks(tuner)
    reporter = TrialReporter(tuner, trial, settings.max_model_size, batch_hooks)
    hypermodel = tuner.hypermodel or HyperModel()
    fitted = hypermodel.fit(
        trial.hyperparameters,
        model,
        *args,
        **_fit_kwargs(tuner, trial, kwargs, execution, reporter),
    )
    result = ExecutionResult(
        best_value=reporter.best_value,
        best_epoch=reporter.best_epoch,
        best_weights=reporter.best_weights,
        reported=reporter.epochs_reported > 0,
        stopped=reporter.stopped,
    )
    if isinstance(fitted, keras.callbacks.History):
        result.history = {k: [float(v) for v in vs] for k, vs in fitted.history.items()}
    else:
        history = getattr(getattr(model, "history", None), "history", None) or {}
        result.history = {k: [float(v) for v in vs] for k, vs in history.items()}
        if fitted is not None:
            result.returned = fitted if isinstance(fitted, dict) else float(fitted)
    return result


def _defines_batch_hooks(tuner: Any) -> bool:
    from tunelab_keras.tuner import Tuner

    cls = type(tuner)
    return any(
        getattr(cls, name, None) is not None
        and getattr(cls, name) is not getattr(Tuner, name, None)
        for name in ("on_batch_begin", "on_batch_end")
    )


def history_best(objective: Any, history: dict[str, list[float]]) -> dict[str, float] | None:
    """The metrics of the history's best epoch for `objective` (None without it)."""
    if not objective.has_value({k: 0 for k in history}):
        return None
    epochs = len(next(iter(history.values())))
    best, best_value = None, None
    for epoch in range(epochs):
        logs = {k: v[epoch] for k, v in history.items() if epoch < len(v)}
        value = objective.get_value(logs)
        if math.isfinite(value) and (
            best_value is None or objective.better_than(value, best_value)
        ):
            best, best_value = logs, value
    return best or {k: v[-1] for k, v in history.items() if v}


def trial_result(objective: Any, results: list[ExecutionResult]) -> Any:
    """What the backend returns to the tuner: None when every metric was reported per epoch,
    else one dict per execution (a custom fit's return value, or the best epoch's metrics)."""
    if all(r.reported and r.returned is None for r in results):
        return None
    out = []
    for r in results:
        if isinstance(r.returned, dict):
            out.append(numeric_logs(r.returned))
        elif r.returned is not None:
            out.append({objective.name: r.returned})
        else:
            out.append(history_best(objective, r.history) or {})
    return out


def write_histories(path: Any, results: list[ExecutionResult]) -> None:
    """Keep each execution's history (per-epoch metrics) in the trial's folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.history for r in results], indent=1), encoding="utf-8")
