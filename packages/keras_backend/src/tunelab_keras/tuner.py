"""`kt.Tuner`: KerasTuner's tuner class for Keras models, to use with an oracle or subclass."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import keras

from tunelab.oracles.base import Oracle
from tunelab.trial import Trial
from tunelab.tuner import BaseTuner
from tunelab_keras.fit_results import history_best, history_values

__all__ = ["Tuner"]

# Called on every training batch: the backend installs them only when a tuner overrides one.
BATCH_HOOKS = ("on_batch_begin", "on_batch_end")


class Tuner(BaseTuner):
    """Tuner for Keras models (KerasTuner's ``kt.Tuner``).

    Use it with any oracle, or subclass it: override `run_trial` to train the model yourself
    (return a ``History``, a dict of metrics, a number, or a list of them, one per
    execution), and the hooks `on_epoch_begin`, `on_epoch_end`, `on_batch_begin`,
    `on_batch_end` to watch training.

    Parameters
    ----------
    oracle : kt.oracles.Oracle
        Decides which hyperparameters to try.
    hypermodel : HyperModel or callable, optional
        ``build(hp)`` returning a compiled ``keras.Model``. A `kt.HyperModel` may also
        override ``fit(hp, model, *args, **kwargs)`` to tune training: its ``build`` may then
        return an uncompiled model or any object, and what ``fit`` returns (a number, a
        dict of metrics, a ``History``, or a list of them) is the trial's result.
    max_model_size : int, optional
        Models with more parameters make their trial INVALID.
    optimizer, loss, metrics : optional
        Compile the hypermodel's models with these in place of their own ``compile``
        arguments (a model left uncompiled is compiled when there is a ``loss``).
    distribution_strategy : tf.distribute.Strategy, optional
        Each trial builds and trains its model under this strategy's scope.
    directory, project_name, logger, tuner_id, overwrite
        See `kt.BaseTuner`.
    executions_per_trial : int
        Models trained per trial (metrics averaged per epoch over executions).
    **kwargs
        Other backend arguments (``keep_best_models``, ``trial_isolation``,
        ``mixed_precision``) and `kt.BaseTuner` arguments.

    Attributes
    ----------
    optimizer, loss, metrics, max_model_size, distribution_strategy, executions_per_trial
        The arguments as given (None for those not given), as KerasTuner's attributes.

    Examples
    --------
    >>> import numpy as np, keras, tunelab as kt
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Int("units", 2, 4)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> tuner = kt.Tuner(kt.oracles.RandomSearchOracle(objective="loss", max_trials=2, seed=1),
    ...                  build, directory="/tmp/tunelab-doc", project_name="tuner",
    ...                  overwrite=True)
    >>> tuner.search(np.zeros((8, 2)), np.zeros(8), epochs=1, verbose=0)
    >>> len(tuner.oracle.trials)
    2
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        max_model_size: int | None = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        distribution_strategy: Any = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        logger: Any = None,
        tuner_id: str | None = None,
        overwrite: bool = False,
        executions_per_trial: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            oracle,
            hypermodel,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            tuner_id=tuner_id,
            logger=logger,
            backend="keras",
            max_model_size=max_model_size,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            distribution_strategy=distribution_strategy,
            executions_per_trial=executions_per_trial,
            **kwargs,
        )
        # KerasTuner's attributes optimizer, loss, metrics... are BaseTuner's, read from the
        # backend arguments.
        self.executions_per_trial = executions_per_trial
        if type(self).run_trial is not BaseTuner.run_trial and not _core_reads_histories():
            # A subclass's run_trial may return a History (or a list of them): turn it into
            # metrics before the loop tells the oracle.
            user_run_trial = self.run_trial

            def run_trial(trial: Trial, *args: Any, **kwargs: Any) -> Any:
                return self._metrics_of(user_run_trial(trial, *args, **kwargs))

            self.run_trial = run_trial  # type: ignore[method-assign]

    def _metrics_of(self, result: Any) -> Any:
        if isinstance(result, keras.callbacks.History):
            return history_best(self.oracle.objective, history_values(result)) or {}
        if isinstance(result, (list, tuple)) and any(
            isinstance(r, keras.callbacks.History) for r in result
        ):
            return [self._metrics_of(r) for r in result]
        return result

    # Hooks (no-ops), called by the backend during ``fit``.
    def on_epoch_begin(
        self, trial: Trial, model: Any, epoch: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(
        self, trial: Trial, model: Any, epoch: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Called at the end of every epoch; `logs` holds the epoch's metrics."""

    def on_batch_begin(
        self, trial: Trial, model: Any, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Called at the start of every training batch (only overridden hooks cost time)."""

    def on_batch_end(
        self, trial: Trial, model: Any, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Called at the end of every training batch."""


def _core_reads_histories() -> bool:
    """Whether the core checks and converts what a `run_trial` override returns, Histories
    included (`tunelab.outcomes.is_history`); until it does, this tuner converts them."""
    from tunelab import outcomes

    return hasattr(outcomes, "is_history")


def overridden_hooks(tuner: Any, names: Iterable[str]) -> dict[str, Any]:
    """The hooks among `names` that `tuner`'s class defines other than `Tuner`'s no-ops (any
    object: a tuner that is not a `Tuner` has those it defines), by name."""
    cls = type(tuner)
    return {
        name: getattr(cls, name)
        for name in names
        if getattr(cls, name, None) is not None
        and getattr(cls, name) is not getattr(Tuner, name, None)
    }
