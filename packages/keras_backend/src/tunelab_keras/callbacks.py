"""The callbacks of one execution of a trial: the user's (copied), and tunelab's own.

The user's callbacks are copied for every execution so that no state (EarlyStopping's
patience counter, a TensorBoard writer) leaks from one trial into the next. A TensorBoard
callback writes under ``<log_dir>/<trial_id>/execution<k>`` and records the trial's
hyperparameters for TensorBoard's HParams tab: the session start before the fit, the
session end (with the fit's status) after it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import math
import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import keras

from tunelab.errors import InvalidTrialError
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = [
    "TrialReporter",
    "copy_callbacks",
    "end_hparams_session",
    "hparams_sessions",
    "log_hparams",
    "numeric_logs",
]

_warned_no_tensorboard = False


def numeric_logs(logs: dict[str, Any] | None) -> dict[str, float]:
    """The logged values that are numbers (Keras may log tensors or numpy scalars)."""
    out = {}
    for name, value in (logs or {}).items():
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _copy(callback: Any) -> Any:
    try:
        return copy.deepcopy(callback)
    except Exception:  # a callback holding a lock or a file: share it rather than fail
        warnings.warn(
            f"{type(callback).__name__} cannot be copied; the same instance is used for every "
            "trial, so its state carries over between trials",
            stacklevel=3,
        )
        return callback


def copy_callbacks(callbacks: Any, trial: Trial, execution: int) -> list[Any]:
    """Per-execution copies of the user's callbacks (TensorBoard: per-trial log folders)."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"callbacks={callbacks!r}; expected a list of keras.callbacks.Callback instances"
        )
    out = []
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(f"callbacks: {callback!r} is not a keras.callbacks.Callback instance")
        copied = _copy(callback)
        if isinstance(copied, keras.callbacks.TensorBoard):
            copied.log_dir = os.path.join(
                str(callback.log_dir), str(trial.trial_id), f"execution{execution}"
            )
            log_hparams(copied.log_dir, trial)
        out.append(copied)
    return out


def _hparams_api() -> Any:
    """TensorBoard's hparams API, or None (with one warning) when it cannot be imported."""
    global _warned_no_tensorboard
    try:
        return importlib.import_module("tensorboard.plugins.hparams.api")
    except ImportError:
        if not _warned_no_tensorboard:
            warnings.warn(
                "tensorboard is not installed, so TensorBoard's HParams logging is off "
                "(scalars are still written); pip install tensorboard to turn it on",
                stacklevel=4,
            )
            _warned_no_tensorboard = True
        return None


def log_hparams(log_dir: str, trial: Trial) -> bool:
    """Write the trial's hyperparameter values for TensorBoard's HParams tab; False when
    tensorboard is not installed."""
    api = _hparams_api()
    if api is None:
        return False
    import tensorflow as tf

    values = {}
    for name, value in trial.hyperparameters.active_values().items():
        values[name] = value if isinstance(value, (bool, int, float, str)) else str(value)
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        api.hparams(values, trial_id=str(trial.trial_id))
    writer.close()
    return True


@contextlib.contextmanager
def hparams_sessions(callbacks: list[Any]) -> Iterator[None]:
    """Around one fit: close the HParams session that `copy_callbacks` opened in each
    TensorBoard callback's folder, with the fit's status (success, or failure when it
    raised), so that TensorBoard's HParams tab lists the trial with its result."""
    folders = [c.log_dir for c in callbacks if isinstance(c, keras.callbacks.TensorBoard)]
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        for folder in folders:
            end_hparams_session(folder, succeeded)


def end_hparams_session(log_dir: str, succeeded: bool) -> bool:
    """Write the session end record (its status and time) of the HParams session in
    `log_dir`; False when tensorboard is not installed."""
    if _hparams_api() is None:
        return False
    import tensorflow as tf
    from tensorboard.plugins.hparams import api_pb2, summary

    status = api_pb2.STATUS_SUCCESS if succeeded else api_pb2.STATUS_FAILURE
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        record = summary.session_end_pb(status).SerializeToString()
        tf.summary.experimental.write_raw_pb(record, step=0)
    writer.close()
    return True


class TrialReporter(keras.callbacks.Callback):
    """Reports each epoch's metrics to the oracle, stops the fit when the oracle says so,
    keeps the best epoch's weights, and calls the tuner's epoch and batch hooks.

    Parameters
    ----------
    context : TrialContext
        The running trial's context: reports go to ``context.report``, the hooks are
        ``context.hooks``'s.
    max_model_size : int, optional
        Checked when training begins, for models that were built only by `fit`.
    batch_hooks : bool
        Call the hooks' ``on_batch_begin``/``on_batch_end`` (only when they are defined).
    objective : Objective, optional
        What the best epoch is chosen by (default: the search's objective).
    """

    def __init__(
        self,
        context: TrialContext,
        max_model_size: int | None,
        batch_hooks: bool,
        objective: Any = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.hooks = context.hooks
        self.trial = context.trial
        self.max_model_size = max_model_size
        self.batch_hooks = batch_hooks
        self.objective = context.objective if objective is None else objective
        self.epochs_reported = 0
        self.best_value: float | None = None
        self.best_weights: list[Any] | None = None
        self.best_epoch: int | None = None
        self.stopped = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        check_model_size(self.model, self.max_model_size)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        hook = getattr(self.hooks, "on_epoch_begin", None)
        if hook is not None:
            hook(self.trial, self.model, epoch, logs=logs)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.batch_hooks:
            self.hooks.on_batch_begin(self.trial, self.model, batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.batch_hooks:
            self.hooks.on_batch_end(self.trial, self.model, batch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metrics = numeric_logs(logs)
        hook = getattr(self.hooks, "on_epoch_end", None)
        if hook is not None:
            hook(self.trial, self.model, epoch, logs=logs)
        if not metrics:
            return
        status = self.context.report(metrics, step=epoch)
        self.epochs_reported += 1
        if self.objective.has_value(metrics):
            value = self.objective.get_value(metrics)
            if math.isfinite(value) and (
                self.best_value is None or self.objective.better_than(value, self.best_value)
            ):
                self.best_value, self.best_epoch = value, epoch
                self.best_weights = self.model.get_weights()
        if status == TrialStatus.STOPPED:
            self.stopped = True
            self.model.stop_training = True


def check_model_size(model: Any, max_model_size: int | None) -> None:
    """INVALID trial (not a failure) for a model with more than `max_model_size` parameters."""
    if max_model_size is None or not model.built:
        return
    size = model.count_params()
    if size > max_model_size:
        raise InvalidTrialError(
            f"the model has {size} parameters, more than max_model_size={max_model_size}; "
            "the trial is skipped"
        )
