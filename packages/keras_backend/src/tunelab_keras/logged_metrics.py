"""The metrics a compiled model's ``fit`` will log, known before it trains, so that a
misspelled objective stops the search before the first epoch instead of after a trial.

Keras names what ``fit`` logs from the compile arguments: ``loss``, then each metric by its
name (a string as written, a `keras.metrics.Metric` by its ``name``, a function by its
``__name__``), and the same with ``val_`` for the validation data. That is predictable only
for a plain model: one output, a flat list of metrics, no overridden ``train_step`` /
``test_step`` / ``compute_metrics``, no custom ``HyperModel.fit`` and no callback that may
write its own entries in the logs. Anything else is not checked here; the first trial's
result is checked instead (see `tunelab.errors.ObjectiveNotReportedError`).
"""

from __future__ import annotations

from typing import Any

import keras

from tunelab.objective import DEFAULT_OBJECTIVE, did_you_mean
from tunelab_keras.errors import ObjectiveNotLoggedError
from tunelab_keras.fit_results import overrides_fit
from tunelab_keras.options import KerasOptions

__all__ = ["check_objective_compiled", "logged_names"]

# Methods whose override may log other names than the compiled metrics.
_STEP_METHODS = ("train_step", "test_step", "compute_metrics", "get_metrics_result")
# Keras callbacks that never add entries to the logs, and those that add "learning_rate".
_QUIET_CALLBACKS = (
    "BackupAndRestore",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "ProgbarLogger",
    "RemoteMonitor",
    "TensorBoard",
    "TerminateOnNaN",
)
_LEARNING_RATE_CALLBACKS = ("LearningRateScheduler", "ReduceLROnPlateau")


def _metric_name(entry: Any) -> str | None:
    """A compile-time metric's logged name; None when Keras may name it otherwise."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, keras.metrics.Metric):
        return str(entry.name)
    if callable(entry) and hasattr(entry, "__name__"):
        return str(entry.__name__)
    if isinstance(entry, dict):  # the serialized form, from get_compile_config()
        config = entry.get("config")
        if isinstance(config, str):
            return config  # a function, by name
        if isinstance(config, dict) and isinstance(config.get("name"), str):
            return config["name"]
    return None


def _callback_names(callbacks: Any) -> set[str] | None:
    """Names the search's callbacks add to the logs; None when one of them might add any."""
    added: set[str] = set()
    for callback in callbacks or ():
        kind = type(callback)
        public = getattr(keras.callbacks, kind.__name__, None)
        if public is not kind:
            return None  # a user's callback: it may write its own metrics into the logs
        if kind.__name__ in _LEARNING_RATE_CALLBACKS:
            added.add("learning_rate")
        elif kind.__name__ not in _QUIET_CALLBACKS:
            return None
    return added


def logged_names(model: Any, settings: KerasOptions, fit_kwargs: dict[str, Any]) -> set[str] | None:
    """What ``model.fit`` will log (``val_`` names included), or None when it cannot be
    told before training."""
    if not isinstance(model, keras.Model) or len(getattr(model, "outputs", None) or ()) != 1:
        return None
    if any(getattr(type(model), m, None) is not getattr(keras.Model, m) for m in _STEP_METHODS):
        return None
    compiled = bool(getattr(model, "compiled", False))
    config = model.get_compile_config() if compiled else None
    metrics = settings.metrics
    if metrics is None:
        if config is None:
            return None
        if config.get("weighted_metrics"):
            return None  # Keras renames a weighted metric that shares a name
        metrics = config.get("metrics") or []
    if not isinstance(metrics, (list, tuple)):
        return None  # a dict per output, or one metric: left to Keras
    names = {"loss"}
    for entry in metrics:
        name = _metric_name(entry)
        if name is None:
            return None
        names.add(name)
    # Metrics that layers own (assigned as their attributes) are logged too.
    names |= {
        str(m.name) for m in model.metrics if m.name != "loss" and not m.name.startswith("compile_")
    }
    added = _callback_names(fit_kwargs.get("callbacks"))
    if added is None:
        return None
    names = names | {f"val_{n}" for n in names}
    return names | added


def check_objective_compiled(
    objective: Any, model: Any, settings: KerasOptions, hypermodel: Any, fit_kwargs: dict
) -> None:
    """Raise `ObjectiveNotLoggedError` before training when the model will not log the
    objective.

    Examples
    --------
    >>> import keras
    >>> from tunelab.objective import Objective
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("adam", "mse", metrics=["mae"])
    >>> check_objective_compiled(Objective("val_ame", "min"), model,
    ...                          KerasOptions.from_options({}), None, {})
    Traceback (most recent call last):
    ...
    tunelab_keras.errors.ObjectiveNotLoggedError: objective 'val_ame' is not among the metrics ...
    """
    if overrides_fit(hypermodel):
        return  # a custom fit may compute and return anything
    names = logged_names(model, settings, fit_kwargs)
    if names is None:
        return
    missing = [n for n in objective.names if n not in names and n != DEFAULT_OBJECTIVE]
    if not missing:
        return
    hints = "".join(did_you_mean(name, sorted(names)) for name in missing)
    shown = missing[0] if len(missing) == 1 else missing
    raise ObjectiveNotLoggedError(
        f"objective {shown!r} is not among the metrics the compiled model logs: "
        f"{', '.join(sorted(names))}{hints} (checked before the first epoch: pass "
        "objective= naming one of them, or add the metric to model.compile(metrics=...))"
    )
