"""The Keras backend: trains the Keras models a hypermodel builds, for any tuner.

Any tuner (`kt.RandomSearch`, `kt.Hyperband`, `kt.Tuner`...) whose hypermodel returns a
`keras.Model` hands it here. `run_trial` trains it with the arguments given to `search`
(``model.fit(x, y, epochs=..., validation_data=..., callbacks=...)``, or the hypermodel's own
``fit``), reports every epoch's metrics to the oracle (so Hyperband and ASHA can stop it),
keeps the best epoch's weights in ``trial_<id>/model.keras``, and clears the Keras session.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from tunelab.backend import Backend
from tunelab_keras.checkpoints import (
    MODEL_FILENAME,
    kept_trials,
    load_keras_model,
    prune_models,
    save_keras_model,
)
from tunelab_keras.memory import discard_model_functions, dismantle_graphs
from tunelab_keras.options import KerasOptions
from tunelab_keras.plugin import OPTIONS, is_keras_model
from tunelab_keras.training import (
    ExecutionResult,
    SearchInputError,
    build_scope,
    check_objective_logged,
    check_validation,
    default_objective,
    fit_execution,
    trial_result,
    write_histories,
)

if TYPE_CHECKING:
    from tunelab.trial import Trial
    from tunelab.tuner import BaseTuner

__all__ = ["KerasBackend", "NotAKerasModelError"]

HISTORIES_FILENAME = "histories.json"


class NotAKerasModelError(SearchInputError, TypeError):
    """The hypermodel returned something that is not a Keras model."""


class KerasBackend(Backend):
    """Trains Keras 3 models for any tuner; saves them as ``.keras`` files.

    The tuner's backend arguments are those of `KerasOptions`: ``max_model_size``,
    ``optimizer``, ``loss``, ``metrics``, ``distribution_strategy``,
    ``executions_per_trial``, ``keep_best_models``, ``trial_isolation``,
    ``mixed_precision``.

    Examples
    --------
    >>> import numpy as np, keras, tunelab as kt
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
    ...                   loss="mse")
    ...     return model
    >>> tuner = kt.RandomSearch(build, objective="loss", max_trials=2, seed=0,
    ...                         directory="/tmp/tunelab-doc", project_name="keras", overwrite=True)
    >>> x = np.random.rand(32, 3); y = x.sum(axis=1)
    >>> tuner.search(x, y, epochs=1, verbose=0)
    >>> len(tuner.oracle.trials)
    2
    """

    name = "keras"
    options = frozenset(OPTIONS)
    model_filename = MODEL_FILENAME

    def owns(self, model: Any) -> bool:
        return is_keras_model(model)

    def validate_options(self, options: dict[str, Any]) -> None:
        KerasOptions.from_options(options)

    def run_trial(
        self, tuner: BaseTuner, trial: Trial, model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if not is_keras_model(model):
            raise NotAKerasModelError(
                f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}; "
                "the keras backend needs a keras.Model"
            )
        settings = KerasOptions.from_options(tuner.backend_kwargs)
        default_objective(tuner.oracle, kwargs)
        check_validation(tuner.oracle.objective, tuner.hypermodel, kwargs)
        if settings.isolated:
            from tunelab_keras.isolation import run_in_process

            del model
            return run_in_process(tuner, trial, settings, args, kwargs)
        trained: list[Any] = []
        try:
            return self._run(tuner, trial, model, settings, args, kwargs, trained)
        finally:
            graphs = [g for m in trained for g in discard_model_functions(m)]
            del model, trained
            release_memory(graphs)

    def _run(
        self,
        tuner: Any,
        trial: Trial,
        model: Any,
        settings: KerasOptions,
        args: tuple,
        kwargs: dict[str, Any],
        trained: list[Any] | None = None,
    ) -> Any:
        """Train `model` (and rebuilt ones for further executions); each model trained is
        appended to `trained` so the caller can free its graphs."""
        trained = [] if trained is None else trained
        objective = tuner.oracle.objective
        results: list[ExecutionResult] = []
        best: tuple[ExecutionResult, Any] | None = None
        for execution in range(settings.executions_per_trial):
            with build_scope(settings):
                if execution > 0 or not _built_for(model, settings):
                    model = build_model(tuner, trial, args, kwargs)
                trained.append(model)
                result = fit_execution(tuner, trial, model, args, kwargs, settings, execution)
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
        if keep is None or _may_be_kept(tuner, trial, keep):
            tuner.save_model(trial.trial_id, model)
        write_histories(tuner.get_trial_dir(trial.trial_id) / HISTORIES_FILENAME, results)
        if keep is not None:
            prune_models(tuner, trial, keep)
        return trial_result(objective, results)

    @contextlib.contextmanager
    def build_scope(self, tuner: BaseTuner) -> Iterator[None]:
        """Build in the distribution strategy's scope, with the mixed-precision policy."""
        with build_scope(KerasOptions.from_options(tuner.backend_kwargs)):
            yield

    def save_model(self, model: Any, path: Path) -> None:
        save_keras_model(model, path)

    def load_model(self, path: Path) -> Any:
        return load_keras_model(path)


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


def _may_be_kept(tuner: Any, trial: Trial, keep: int) -> bool:
    """False when `trial` is ranked already and is outside the best `keep`: its model file
    would be deleted right after saving it (~0.1 s a trial saved)."""
    kept, ranked = kept_trials(tuner, trial, keep)
    return not ranked or str(trial.trial_id) in kept


def _better(objective: Any, a: ExecutionResult, b: ExecutionResult) -> bool:
    if a.best_value is None:
        return False
    return b.best_value is None or objective.better_than(a.best_value, b.best_value)


def build_model(tuner: Any, trial: Trial, args: tuple, kwargs: dict[str, Any]) -> Any:
    """A new model for `trial`: the parent's saved model for a Hyperband continuation,
    else the hypermodel built again (fresh weights)."""
    parent = trial.hyperparameters.values.get("tuner/trial_id")
    if parent is not None:
        try:
            return tuner.load_model(tuner.oracle.get_trial(parent))
        except FileNotFoundError:
            pass
    model = tuner._build(trial.hyperparameters, args, kwargs)
    if not is_keras_model(model):
        raise NotAKerasModelError(
            f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}; "
            "the keras backend needs a keras.Model"
        )
    return model


def release_memory(graphs: list[Any] | None = None) -> None:
    """Free the trial's graphs and variables: Keras keeps them in a global session, and
    TensorFlow keeps the traced `graphs` of the trial's models (see `tunelab_keras.memory`).

    ``clear_session`` runs a full garbage collection, which with TensorFlow loaded walks
    ~500,000 objects of its modules (~0.15 s a trial, half of our overhead). After the first
    trial, what is alive is TensorFlow's and the search's long-lived state, so it is moved
    out of the collector's way with `gc.freeze` (once per process): later collections only
    walk what later trials created. (glibc's ``malloc_trim`` was measured too: it returned
    nothing the next trial would not reuse.)
    """
    dismantle_graphs(graphs or ())
    keras.backend.clear_session()
    if not _FROZE_GC:
        gc.freeze()
        _FROZE_GC.append(True)


_FROZE_GC: list[bool] = []  # not empty once gc.freeze() ran in this process
