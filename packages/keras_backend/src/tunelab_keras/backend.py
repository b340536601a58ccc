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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from tunelab.backend import Backend
from tunelab_keras.checkpoints import (
    MODEL_FILENAME,
    load_keras_model,
    save_keras_model,
)
from tunelab_keras.logged_metrics import check_objective_compiled
from tunelab_keras.memory import discard_model_functions, dismantle_graphs
from tunelab_keras.options import OPTIONS, KerasOptions
from tunelab_keras.training import (
    NotAKerasModelError,
    build_scope,
    check_keras_model,
    check_validation,
    default_objective,
    run_executions,
)
from tunelab_keras.tuner import BATCH_HOOKS, overridden_hooks

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = ["KerasBackend", "NotAKerasModelError"]


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
        # plugin.is_keras_model answers without importing Keras; this module has imported it.
        return isinstance(model, keras.Model)

    def validate_options(self, options: dict[str, Any]) -> None:
        KerasOptions.from_options(options)

    def validate_search(
        self, context: TrialContext, model: Any, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        """Before anything trains: an objective that the compiled model will not log (a
        misspelled name) stops the search, with the closest name (see
        `tunelab_keras.logged_metrics`)."""
        settings = KerasOptions.from_options(context.options)
        check_objective_compiled(context.objective, model, settings, context.hypermodel, kwargs)

    def run_trial(self, context: TrialContext, model: Any, *args: Any, **kwargs: Any) -> Any:
        check_keras_model(model, context.hypermodel)
        settings = KerasOptions.from_options(context.options)
        default_objective(context, kwargs)  # with a custom fit, decided after its first return
        check_validation(context.objective, context.hypermodel, kwargs)
        if settings.isolated:
            from tunelab_keras.isolation import run_in_process

            del model
            return run_in_process(context, settings, args, kwargs)
        trained: list[Any] = []
        try:
            batch_hooks = bool(overridden_hooks(context.hooks, BATCH_HOOKS))
            return run_executions(
                context,
                model,
                settings,
                args,
                kwargs,
                batch_hooks=batch_hooks,
                trained=trained,
            )
        finally:
            graphs = [g for m in trained for g in discard_model_functions(m)]
            del model, trained
            release_memory(graphs)

    @contextlib.contextmanager
    def build_scope(self, context: TrialContext) -> Iterator[None]:
        """Build in the distribution strategy's scope, with the mixed-precision policy."""
        with build_scope(KerasOptions.from_options(context.options)):
            yield

    def save_model(self, model: Any, path: Path) -> None:
        save_keras_model(model, path)

    def load_model(self, path: Path, rebuild: Callable[[], Any] | None = None) -> Any:
        """Load a trial's model; `rebuild` (the trial's hypermodel built anew) serves for a
        file that Keras cannot load safely: see `tunelab_keras.checkpoints.load_keras_model`."""
        return load_keras_model(path, rebuild)


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
