"""One trial of a Keras model: compile overrides, executions, and the trial's result."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras

from tunelab.errors import FatalError
from tunelab.hypermodel import FunctionHyperModel, HyperModel
from tunelab.objective import DEFAULT_OBJECTIVE, Objective
from tunelab.trial import Trial
from tunelab_keras.callbacks import TrialReporter, check_model_size, copy_callbacks, numeric_logs
from tunelab_keras.checkpoints import kept_trials, prune_models
from tunelab_keras.options import KerasOptions

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = [
    "ExecutionResult",
    "NotAKerasModelError",
    "SearchInputError",
    "apply_compile_overrides",
    "build_model",
    "fit_execution",
    "run_executions",
]

HISTORIES_FILENAME = "histories.json"
_VALIDATION_ARGS = ("validation_data", "validation_split")


class SearchInputError(FatalError, ValueError):
    """The search cannot work as asked (wrong objective, uncompiled model...): it stops."""


class NotAKerasModelError(SearchInputError, TypeError):
    """The hypermodel returned something that is not a Keras model."""


def check_keras_model(model: Any) -> None:
    """Raise `NotAKerasModelError` unless the hypermodel returned a `keras.Model`."""
    if not isinstance(model, keras.Model):
        raise NotAKerasModelError(
            f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}; "
            "the keras backend needs a keras.Model"
        )


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


def default_objective(context: TrialContext, fit_kwargs: dict[str, Any]) -> None:
    """KerasTuner's default objective: ``val_loss`` (``loss`` without validation data)."""
    if context.objective.name != DEFAULT_OBJECTIVE:
        return
    has_validation = any(fit_kwargs.get(k) is not None for k in _VALIDATION_ARGS)
    context.set_objective(Objective("val_loss" if has_validation else "loss", "min"))


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
    trial: Trial, kwargs: dict[str, Any], execution: int, reporter: TrialReporter
) -> dict[str, Any]:
    out = dict(kwargs)
    out["callbacks"] = [*copy_callbacks(kwargs.get("callbacks"), trial, execution), reporter]
    return out


def fit_execution(
    context: TrialContext,
    model: Any,
    args: tuple,
    kwargs: dict[str, Any],
    settings: KerasOptions,
    execution: int,
    batch_hooks: bool = False,
) -> ExecutionResult:
    """Train `model` once (`hypermodel.fit`, by default `model.fit`) and collect what it
    reported. `batch_hooks`: whether ``context.hooks`` overrides `on_batch_begin`/`on_batch_end`
    (calling them costs time on every batch, so only then are they called)."""
    if settings.overrides_compile or not getattr(model, "compiled", False):
        apply_compile_overrides(model, settings)
    check_model_size(model, settings.max_model_size)
    trial = context.trial
    reporter = TrialReporter(context, settings.max_model_size, batch_hooks)
    hypermodel = context.hypermodel or HyperModel()
    fitted = hypermodel.fit(
        trial.hyperparameters,
        model,
        *args,
        **_fit_kwargs(trial, kwargs, execution, reporter),
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


def run_executions(
    context: TrialContext,
    model: Any,
    settings: KerasOptions,
    args: tuple,
    kwargs: dict[str, Any],
    *,
    batch_hooks: bool,
    trained: list[Any] | None = None,
) -> Any:
    """Train `model` (and rebuilt ones for further executions); each model trained is
    appended to `trained` so the caller can free its graphs."""
    trained = [] if trained is None else trained
    trial = context.trial
    objective = context.objective
    results: list[ExecutionResult] = []
    best: tuple[ExecutionResult, Any] | None = None
    for execution in range(settings.executions_per_trial):
        with build_scope(settings):
            if execution > 0 or not _built_for(model, settings):
                model = build_model(context)
            trained.append(model)
            result = fit_execution(context, model, args, kwargs, settings, execution, batch_hooks)
        if execution == 0:
            check_objective_logged(objective, result)
        results.append(result)
        if best is None or _better(objective, result, best[0]):
            best = (result, model)
        if result.stopped:
            break  # the oracle stopped the trial: no more executions
    assert best is not None
    result, model = best
    if result.best_weights is not None:
        model.set_weights(result.best_weights)
    keep = settings.keep_best_models
    if "tuner/epochs" in trial.hyperparameters.values:
        keep = None  # Hyperband continues trials from their parent's model: keep all
    if keep is None or _may_be_kept(context, keep):
        context.save_model(model)
    write_histories(context.trial_dir / HISTORIES_FILENAME, results)
    if keep is not None:
        prune_models(context, keep)
    return trial_result(objective, results)


def _built_for(model: Any, settings: KerasOptions) -> bool:
    """Whether `model` was built as `settings` ask: in the strategy's scope, and with the
    mixed-precision policy. The tuner builds in `KerasBackend.build_scope` once it knows the
    backend (from the second trial, or from the first with ``backend="keras"``); a model
    built before that is built again, in the scope."""
    strategy = settings.distribution_strategy
    if hasattr(strategy, "device_mesh"):
        # A keras.distribution one (JAX; Keras has no public base class to test for): a
        # model built in its scope has its variables laid out over the device mesh.
        if not all(hasattr(getattr(v.value, "sharding", None), "mesh") for v in model.weights):
            return False
    elif strategy is not None and getattr(model, "_distribute_strategy", None) is not strategy:
        return False
    policy = getattr(getattr(model, "dtype_policy", None), "name", None)
    return not settings.mixed_precision or policy == "mixed_float16"


def _may_be_kept(context: TrialContext, keep: int) -> bool:
    """False when the trial is ranked already and is outside the best `keep`: its model file
    would be deleted right after saving it (~0.1 s a trial saved)."""
    kept, ranked = kept_trials(context, keep)
    return not ranked or context.trial_id in kept


def _better(objective: Any, a: ExecutionResult, b: ExecutionResult) -> bool:
    if a.best_value is None:
        return False
    return b.best_value is None or objective.better_than(a.best_value, b.best_value)


def build_model(context: TrialContext) -> Any:
    """A new model for the trial: the parent's saved model for a Hyperband continuation,
    else the hypermodel built again (fresh weights)."""
    hp = context.trial.hyperparameters
    parent = hp.values.get("tuner/trial_id")
    if parent is not None:
        try:
            return context.load_model(parent)
        except FileNotFoundError:
            pass
    model = context.build(hp)
    check_keras_model(model)
    return model
