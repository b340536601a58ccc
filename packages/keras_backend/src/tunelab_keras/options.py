"""The Keras backend's tuner arguments, checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_KEEP_BEST_MODELS", "OPTIONS", "KerasOptions"]

# The tuner keyword arguments this backend accepts (the fields of KerasOptions).
OPTIONS = (
    "max_model_size",
    "optimizer",
    "loss",
    "metrics",
    "distribution_strategy",
    "executions_per_trial",
    "keep_best_models",
    "trial_isolation",
    "mixed_precision",
)

# Trials whose best-epoch model stays on disk (the others' files are deleted as the search
# goes): KerasTuner keeps every trial's checkpoints, and large searches fill disks.
DEFAULT_KEEP_BEST_MODELS = 10

_ISOLATION = (None, "none", "process")


def _positive_int(name: str, value: Any, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        expected = "an int >= 1" + (" or None" if allow_none else "")
        raise ValueError(f"{name}={value!r}; expected {expected}")


@dataclass(frozen=True)
class KerasOptions:
    """The Keras backend arguments of a tuner.

    Parameters
    ----------
    max_model_size : int, optional
        The most parameters a model may have; a larger model makes its trial INVALID
        (it is not trained, and it is not a failure).
    optimizer, loss, metrics : optional
        Override the hypermodel's ``compile`` arguments (or compile a model the hypermodel
        left uncompiled; then `loss` is needed). An optimizer instance is copied per model.
    distribution_strategy : tf.distribute.Strategy or keras.distribution.Distribution, optional
        Every trial builds and trains its model under ``strategy.scope()``: e.g.
        ``tf.distribute.MirroredStrategy()`` with TensorFlow, or
        ``keras.distribution.DataParallel(devices=...)`` with the JAX backend.
    executions_per_trial : int
        Models trained per trial (fresh weights each); the per-epoch metrics are averaged
        over executions and each execution's history is kept in the trial's folder.
    keep_best_models : int or None
        Only the best this-many trials keep their saved model (default 10); None keeps all.
        Hyperband searches keep all (a later round continues from earlier trials' models).
    trial_isolation : {None, "process"}
        "process": every trial runs in a fresh Python process, so that a leak or a crash
        (segfault, out of memory) fails that trial only.
    mixed_precision : bool
        Build and train models with the ``mixed_float16`` policy (for GPUs); the previous
        policy is restored after each trial. The model is the user's: as Keras advises, give
        its output layer ``dtype="float32"`` (e.g. ``Dense(10, activation="softmax",
        dtype="float32")``) so that the softmax and the loss are computed in float32;
        tunelab does not change the layers.

    Examples
    --------
    >>> KerasOptions.from_options({"executions_per_trial": 2}).executions_per_trial
    2
    """

    max_model_size: int | None = None
    optimizer: Any = None
    loss: Any = None
    metrics: Any = None
    distribution_strategy: Any = None
    executions_per_trial: int = 1
    keep_best_models: int | None = DEFAULT_KEEP_BEST_MODELS
    trial_isolation: str | None = None
    mixed_precision: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> KerasOptions:
        """Check `options` (the tuner's backend keyword arguments) and return them."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise TypeError(
                f"the keras backend does not accept the argument(s) {unknown}; "
                f"it accepts {sorted(OPTIONS)}"
            )
        settings = cls(**options)
        _positive_int("max_model_size", settings.max_model_size, allow_none=True)
        _positive_int("executions_per_trial", settings.executions_per_trial, allow_none=False)
        _positive_int("keep_best_models", settings.keep_best_models, allow_none=True)
        if settings.trial_isolation not in _ISOLATION:
            raise ValueError(
                f"trial_isolation={settings.trial_isolation!r}; expected None or 'process'"
            )
        if not isinstance(settings.mixed_precision, bool):
            raise TypeError(f"mixed_precision={settings.mixed_precision!r}; expected True or False")
        strategy = settings.distribution_strategy
        if strategy is not None and not callable(getattr(strategy, "scope", None)):
            raise TypeError(
                f"distribution_strategy={strategy!r}; expected a tf.distribute.Strategy "
                "or a keras.distribution.Distribution (an object with a scope() method), e.g. "
                "tf.distribute.MirroredStrategy() or keras.distribution.DataParallel()"
            )
        if settings.loss is not None and not (
            isinstance(settings.loss, (str, list, dict)) or callable(settings.loss)
        ):
            raise TypeError(
                f"loss={settings.loss!r}; expected a loss name, a keras.losses.Loss, a "
                "function, or a list or dict of them"
            )
        return settings

    @property
    def isolated(self) -> bool:
        return self.trial_isolation == "process"

    @property
    def overrides_compile(self) -> bool:
        return any(v is not None for v in (self.optimizer, self.loss, self.metrics))
