"""Ready-made tuners: one oracle plus the tuner loop (KerasTuner's `kt.tuners`)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelab.backend import Backend
from tunelab.distributions import install_hint
from tunelab.hyperparameters import HyperParameters
from tunelab.oracles import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    RandomSearchOracle,
)
from tunelab.trial import Trial
from tunelab.tuner import BaseTuner

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch"]

# KerasTuner's module paths (`from keras_tuner.tuners import randomsearch`): this module acts
# as a package whose submodules live in tunelab/compat/tuner_modules/.
__path__ = [str(Path(__file__).with_name("compat") / "tuner_modules")]
_SUBMODULES = ("bayesian", "gridsearch", "hyperband", "randomsearch", "sklearn_tuner")


class RandomSearch(BaseTuner):
    """Random search.

    Parameters
    ----------
    hypermodel : HyperModel or callable
        Returns a model for a backend, or the trial's result (see `BaseTuner`).
    objective : str, Objective or list
        What to optimize (``"val_accuracy"``, ``kt.Objective("loss", "min")``...).
    max_trials : int
        The most trials to run.
    seed, hyperparameters, tune_new_entries, allow_new_entries, max_retries_per_trial,
    max_consecutive_failed_trials, initial_trials, initial_design, num_initial_points
        See `kt.oracles.Oracle`.
    **kwargs
        Tuner arguments: directory, project_name, overwrite, tuner_id, logger, backend and
        backend arguments.

    Examples
    --------
    >>> import tunelab as kt
    >>> tuner = kt.RandomSearch(lambda hp: hp.Float("x", 0.0, 1.0) ** 2, objective="loss",
    ...                         max_trials=3, directory="/tmp/tunelab-doc", overwrite=True)
    >>> tuner.search(verbose=0)
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        initial_trials: Any = None,
        initial_design: str | None = None,
        num_initial_points: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = RandomSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            initial_trials=initial_trials,
            initial_design=initial_design,
            num_initial_points=num_initial_points,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class GridSearch(BaseTuner):
    """Grid search over every combination of the hyperparameters' values.

    Parameters are those of `RandomSearch`; `max_trials=None` (the default) runs the whole
    grid. Float hyperparameters need a `step`.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        initial_trials: Any = None,
        **kwargs: Any,
    ) -> None:
        oracle = GridSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            initial_trials=initial_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class BayesianOptimization(BaseTuner):
    """Bayesian optimization with a Gaussian process (see `BayesianOptimizationOracle`).

    Parameters
    ----------
    hypermodel, objective, max_trials, seed, hyperparameters, tune_new_entries,
    allow_new_entries, max_retries_per_trial, max_consecutive_failed_trials, initial_trials
        As for `RandomSearch`.
    num_initial_points : int, optional
        Trials placed by the initial design (Sobol by default) before the model is used.
    alpha, beta : float
        Kernel noise floor, and the exploration weight of the UCB acquisition.
    acquisition : {"log_ei", "ucb"}
        Log expected improvement (default) or upper confidence bound.

    Examples
    --------
    >>> import tunelab as kt
    >>> tuner = kt.BayesianOptimization(lambda hp: (hp.Float("x", -1.0, 1.0) - 0.3) ** 2,
    ...                                 objective="loss", max_trials=8, seed=0,
    ...                                 directory="/tmp/tunelab-doc", overwrite=True)
    >>> tuner.search(verbose=0)
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-6,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        acquisition: str = "log_ei",
        initial_trials: Any = None,
        initial_design: str | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = BayesianOptimizationOracle(
            objective=objective,
            max_trials=max_trials,
            num_initial_points=num_initial_points,
            alpha=alpha,
            beta=beta,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            acquisition=acquisition,
            initial_trials=initial_trials,
            initial_design=initial_design,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class Hyperband(BaseTuner):
    """The Hyperband tuner (KerasTuner's `kt.Hyperband`).

    A trial that continues a configuration of the previous round loads that trial's saved
    model and trains it from ``tuner/initial_epoch`` to ``tuner/epochs`` (the backend gets
    them as ``initial_epoch=`` and ``epochs=``). An objective function reads them itself:
    ``hp.get("tuner/epochs")``, ``hp.get("tuner/initial_epoch")``, ``hp.get("tuner/trial_id")``.

    Parameters
    ----------
    hypermodel : HyperModel or callable
        Returns a model for a backend, or the trial's result (see `BaseTuner`).
    objective : str, Objective or list
        What to optimize.
    max_epochs, factor, hyperband_iterations, sampler, sizing
        See `HyperbandOracle`; the rounds hold as many trials as KerasTuner 1.4's.
    seed, hyperparameters, tune_new_entries, allow_new_entries, max_retries_per_trial,
    max_consecutive_failed_trials, initial_trials, initial_design, num_initial_points
        See `kt.oracles.Oracle`.
    **kwargs
        Tuner arguments: directory, project_name, overwrite, tuner_id, logger, backend and
        backend arguments.

    Examples
    --------
    >>> import tunelab as kt
    >>> def train(hp):
    ...     x = hp.Float("x", 0.0, 1.0)
    ...     return (x - 0.5) ** 2 + 1.0 / hp.get("tuner/epochs")
    >>> tuner = Hyperband(train, objective="loss", max_epochs=9, seed=0,
    ...                   directory="/tmp/tunelab-doc", project_name="hb", overwrite=True)
    >>> tuner.search(verbose=0)
    >>> len(tuner.oracle.trials)
    23
    """

    # Seconds between two asks while the search waits for other workers' trials (the
    # runner reads it: see `tunelab.runner.Runner`).
    poll_interval = 1.0

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        initial_trials: Any = None,
        initial_design: str | None = None,
        num_initial_points: int | None = None,
        sampler: str | Callable[[HyperbandOracle, Trial], dict[str, Any] | None] | None = None,
        sizing: str | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = HyperbandOracle(
            objective=objective,
            max_epochs=max_epochs,
            factor=factor,
            hyperband_iterations=hyperband_iterations,
            seed=seed,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            sampler=sampler,
            sizing=sizing,
            initial_trials=initial_trials,
            initial_design=initial_design,
            num_initial_points=num_initial_points,
        )
        super().__init__(oracle, hypermodel, **kwargs)

    def _continue_trial(
        self, trial: Trial, backend: Backend, model: Any, kwargs: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """Train from ``tuner/initial_epoch`` to ``tuner/epochs``, continuing the saved
        model of the trial this one continues when the backend loads parent models."""
        values = trial.hyperparameters.values
        if "tuner/epochs" not in values:
            return model, kwargs
        kwargs = {
            **kwargs,
            "epochs": values["tuner/epochs"],
            "initial_epoch": values["tuner/initial_epoch"],
        }
        parent = values.get("tuner/trial_id")
        if parent is not None and backend.loads_parent_model:
            try:
                model = self.load_model(self.oracle.get_trial(parent))
            except FileNotFoundError:
                warnings.warn(
                    f"trial {trial.trial_id}: trial {parent} saved no model to "
                    "continue from; training from epoch 0",
                    stacklevel=3,
                )
                kwargs["initial_epoch"] = 0
        return model, kwargs


# Names that live in a backend package, resolved on first use.
_BACKEND_NAMES = {
    "Tuner": ("tunelab_keras", "Tuner", "tunelab-keras"),
    "Sklearn": ("tunelab_sklearn", "SklearnTuner", "tunelab-sklearn"),
    "SklearnTuner": ("tunelab_sklearn", "SklearnTuner", "tunelab-sklearn"),
}


def lazy_backend_name(module_name: str, attribute: str, package: str, requested: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"{requested} needs the {package} package: {install_hint(package)}"
        ) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(
            f"{requested}: the installed {package} does not provide {attribute} yet"
        ) from None


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _BACKEND_NAMES:
        module, attribute, package = _BACKEND_NAMES[name]
        return lazy_backend_name(module, attribute, package, f"kt.tuners.{name}")
    raise AttributeError(f"module 'tunelab.tuners' has no attribute {name!r}")
