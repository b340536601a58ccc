"""One trial of a Keras model: compile overrides, executions, and the trial's result."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras

from tunelab.hypermodel import HyperModel
from tunelab.objective import DEFAULT_OBJECTIVE, Objective
from tunelab_keras.callbacks import (
    TrialReporter,
    check_model_size,
    copy_callbacks,
    hparams_sessions,
)
from tunelab_keras.checkpoints import kept_trials, prune_models
from tunelab_keras.errors import FitResultTypeError, NotAKerasModelError, SearchInputError
from tunelab_keras.fit_results import (
    ACCEPTED,
    fit_metrics,
    history_best,
    history_values,
    overrides_fit,
)
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


def check_keras_model(model: Any, hypermodel: Any = None) -> None:
    """Raise `NotAKerasModelError` unless the hypermodel returned a `keras.Model` (any object
    is accepted from a hypermodel whose own ``fit`` trains it)."""
    if not isinstance(model, keras.Model) and not overrides_fit(hypermodel):
        raise NotAKerasModelError(
            f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}; "
            "the keras backend needs a keras.Model, or a kt.HyperModel that overrides "
            "fit(hp, model, *args, **kwargs) to train what build(hp) returns"
        )


@dataclass
class ExecutionResult:
    """What one execution (one fit) of a trial left."""

    history: dict[str, list[float]] = field(default_factory=dict)
    # What a custom HyperModel.fit returned, as one dict of metrics per item (None: it
    # returned None or the History whose epochs were reported).
    returned: list[dict[str, float]] | None = None
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
    """Compile `model` with the tuner's optimizer/loss/metrics in place of its own (a model
    not compiled yet needs the tuner's ``loss=``; its optimizer defaults to Adam)."""
    compiled = bool(getattr(model, "compiled", False))
    config = dict(getattr(getattr(model, "_compile_config", None), "config", None) or {})
    if not compiled:
        config = {}
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


def prepare_model(model: Any, settings: KerasOptions, custom_fit: bool) -> None:
    """Compile `model` when the tuner compiles it, as KerasTuner does: when the tuner got
    ``optimizer=``, ``loss=`` or ``metrics=``. A model left uncompiled must be trained by a
    custom ``HyperModel.fit`` (which may compile it itself); `model.fit` alone cannot."""
    if not isinstance(model, keras.Model):
        return  # any object a custom fit trains: nothing to compile or measure
    compiled = bool(getattr(model, "compiled", False))
    if settings.overrides_compile and (compiled or settings.loss is not None):
        apply_compile_overrides(model, settings)
    elif not compiled and not custom_fit:
        if settings.overrides_compile:
            raise SearchInputError(
                "the hypermodel returned a model that is not compiled and the tuner has no "
                "loss= to compile it with; pass loss= to the tuner or compile the model in "
                "build(hp)"
            )
        raise SearchInputError(
            "the hypermodel returned a model that is not compiled; call model.compile(...) "
            "in build(hp), pass loss= (and optimizer=, metrics=) to the tuner, or override "
            "HyperModel.fit to compile and train it"
        )
    check_model_size(model, settings.max_model_size)


def keras_default_objective(fit_kwargs: dict[str, Any]) -> Objective:
    """What a Keras model's History is scored by when no objective was given: ``val_loss``,
    or ``loss`` without validation data."""
    has_validation = any(fit_kwargs.get(k) is not None for k in _VALIDATION_ARGS)
    return Objective("val_loss" if has_validation else "loss", "min")


def default_objective(context: TrialContext, fit_kwargs: dict[str, Any]) -> Objective | None:
    """Resolve KerasTuner's default objective (`keras_default_objective`) for a search that
    named none; with a custom ``HyperModel.fit``, return it undecided instead: a number that
    fit returns is recorded as ``default_objective``, as KerasTuner does, and only another
    result (a History, a dict) makes the search use `keras_default_objective`."""
    if context.objective.name != DEFAULT_OBJECTIVE:
        return None
    objective = keras_default_objective(fit_kwargs)
    if overrides_fit(context.hypermodel):
        return objective
    context.set_objective(objective)
    return None


def check_validation(objective: Any, hypermodel: Any, fit_kwargs: dict[str, Any]) -> None:
    """A ``val_`` objective needs validation data, unless a custom fit provides it."""
    if any(fit_kwargs.get(k) is not None for k in _VALIDATION_ARGS):
        return
    if overrides_fit(hypermodel):
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
    if returned is not None and all(objective.has_value(r) for r in returned):
        return
    if objective.has_value({k: 0 for k in result.history}):
        return
    if returned is not None:
        raise SearchInputError(
            f"HyperModel.fit() returned the metrics {returned}, without the objective "
            f"{objective.names}, and no epoch logged it; return the objective's value "
            "(a number, or a dict with it), or pass objective= naming a returned metric"
        )
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


def fit_execution(
    context: TrialContext,
    model: Any,
    args: tuple,
    kwargs: dict[str, Any],
    settings: KerasOptions,
    execution: int,
    batch_hooks: bool = False,
    objective: Any = None,
) -> ExecutionResult:
    """Train `model` once (`hypermodel.fit`, by default `model.fit`) and collect what it
    reported and returned. `batch_hooks`: whether ``context.hooks`` overrides
    `on_batch_begin`/`on_batch_end` (calling them costs time on every batch, so only then are
    they called). `objective`: what the best epoch is chosen by, when it is not yet the
    search's (see `default_objective`)."""
    custom_fit = overrides_fit(context.hypermodel)
    prepare_model(model, settings, custom_fit)
    trial = context.trial
    objective = context.objective if objective is None else objective
    reporter = TrialReporter(context, settings.max_model_size, batch_hooks, objective=objective)
    callbacks = copy_callbacks(kwargs.get("callbacks"), trial, execution)
    hypermodel = context.hypermodel or HyperModel()
    with hparams_sessions(callbacks):
        fitted = hypermodel.fit(
            trial.hyperparameters, model, *args, **{**kwargs, "callbacks": [*callbacks, reporter]}
        )
    result = ExecutionResult(
        best_value=reporter.best_value,
        best_epoch=reporter.best_epoch,
        best_weights=reporter.best_weights,
        reported=reporter.epochs_reported > 0,
        stopped=reporter.stopped,
    )
    if isinstance(fitted, keras.callbacks.History):
        result.history = history_values(fitted)
        if not result.reported:  # a History of a fit that did not get the tuner's callbacks
            result.returned = fit_metrics(fitted, context.objective)
        return result
    result.history = history_values(getattr(model, "history", None))
    if not custom_fit:
        return result  # model.fit's own return: its epochs were reported
    if fitted is None:
        if not result.reported:
            raise FitResultTypeError(
                "HyperModel.fit() returned None and trained nothing the tuner could see "
                f"(no epoch logged metrics); expected {ACCEPTED}. Did you forget to return "
                "the metrics?"
            )
        return result  # the epochs it reported are the result
    result.returned = fit_metrics(fitted, context.objective)
    value = _returned_value(context.objective, result.returned)
    if value is not None and not context.objective.has_value(_latest(result.history)):
        # The objective came only from what fit returned: its value ranks executions, and
        # the model keeps its final weights (no epoch was scored).
        result.best_value, result.best_weights, result.best_epoch = value, None, None
    return result


def _latest(history: dict[str, list[float]]) -> dict[str, float]:
    return {k: v[-1] for k, v in history.items() if v}


def _returned_value(objective: Any, returned: list[dict[str, float]]) -> float | None:
    """The objective's value averaged over what a custom fit returned (None without it)."""
    if not all(objective.has_value(r) for r in returned):
        return None
    return sum(objective.get_value(r) for r in returned) / len(returned)


def trial_result(objective: Any, results: list[ExecutionResult]) -> Any:
    """What the backend returns to the tuner: None when every metric was reported per epoch,
    else one dict per execution (what a custom fit returned, or the best epoch's metrics)."""
    if all(r.reported and r.returned is None for r in results):
        return None
    out = []
    for r in results:
        if r.returned is not None:
            out.extend(r.returned)
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
    undecided = default_objective(context, kwargs)
    results: list[ExecutionResult] = []
    best: tuple[ExecutionResult, Any] | None = None
    for execution in range(settings.executions_per_trial):
        with build_scope(settings):
            if execution > 0 or not _built_for(model, settings):
                model = build_model(context)
            trained.append(model)
            result = fit_execution(
                context, model, args, kwargs, settings, execution, batch_hooks, undecided
            )
        if undecided is not None:
            _decide_objective(context, undecided, result)
            undecided = None
        if execution == 0:
            check_objective_logged(context.objective, result)
        results.append(result)
        if best is None or _better(context.objective, result, best[0]):
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
    if isinstance(model, keras.Model) and (keep is None or _may_be_kept(context, keep)):
        context.save_model(model)  # (what a custom fit trains may be any object: not saved)
    write_histories(context.trial_dir / HISTORIES_FILENAME, results)
    if keep is not None:
        prune_models(context, keep)
    return trial_result(context.objective, results)


def _decide_objective(context: TrialContext, objective: Objective, result: ExecutionResult) -> None:
    """After a custom fit's first execution in a search with no objective: the search keeps
    ``default_objective`` when fit returned numbers (KerasTuner's rule), else it uses
    `objective` (``val_loss`` or ``loss``), by which this execution's best epoch was kept."""
    returned = result.returned
    if returned is not None and all(DEFAULT_OBJECTIVE in r for r in returned):
        return
    context.set_objective(objective)


def _built_for(model: Any, settings: KerasOptions) -> bool:
    """Whether `model` was built as `settings` ask: in the strategy's scope, and with the
    mixed-precision policy. The tuner builds in `KerasBackend.build_scope` once it knows the
    backend (from the second trial, or from the first with ``backend="keras"``); a model
    built before that is built again, in the scope."""
    if not isinstance(model, keras.Model):
        return True  # any object a custom fit trains: built as the hypermodel built it
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
    check_keras_model(model, context.hypermodel)
    return model
