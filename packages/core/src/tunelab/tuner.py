"""The tuner: the hypermodel, its trials and models on disk; `search` hands the loop to
`tunelab.runner`."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tunelab import plugins
from tunelab.backend import Backend, takes_tuner
from tunelab.checks import check_int, check_seconds
from tunelab.context import TrialContext
from tunelab.display import (
    front_summary_text,
    results_summary_text,
    search_space_summary_text,
)
from tunelab.hypermodel import (
    FunctionHyperModel,
    HyperModel,
    as_hypermodel,
    build_hypermodel,
    names_parameter,
)
from tunelab.hyperparameters import HyperParameters
from tunelab.initial_space import builds_alone, check_new_entries, populate_space
from tunelab.oracles.base import Oracle
from tunelab.oracles.multi_objective import check_constraints
from tunelab.outcomes import is_number, trial_result
from tunelab.progress import SearchProgress, check_progress
from tunelab.pruners.base import check_pruner
from tunelab.store import STORE_FILENAME, project_path
from tunelab.trial import Trial, TrialStatus

__all__ = ["BaseTuner", "is_trial_result"]


def is_trial_result(value: Any) -> bool:
    """A number, a dict of metrics or a list of dicts is a trial's result; anything else is
    a model for a backend."""
    if isinstance(value, dict) or is_number(value):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class BaseTuner:
    """The tuner loop, for any kind of model or code.

    Parameters
    ----------
    oracle : Oracle
        Decides which hyperparameters to try.
    hypermodel : HyperModel or callable, optional
        `fn(hp)` returning a model (trained and evaluated by the backend that owns it), or
        `fn(hp, *search_args, **search_kwargs)` returning the trial's result: a number, a dict
        of metrics or a list of dicts (one per execution). Needed unless a subclass overrides
        `run_trial`.
    directory, project_name : str, optional
        The project lives in `directory/project_name` (default ``./untitled_project``).
    overwrite : bool
        Start clean instead of resuming the project.
    storage : str, optional
        Keep the trials in a PostgreSQL database instead of the SQLite file of the project
        folder: ``"postgresql://user:password@host:5432/database"``, the study named by
        `project_name`, shared by processes on many hosts (``pip install
        'psycopg[binary]>=3.1'``, or ``pip install './packages/core[postgres]'`` from a
        checkout). Model files still go under `directory/project_name`. See
        `tunelab.storage.url`.
    tuner_id : str, optional
        Names this tuner in the store (default ``$KERASTUNER_TUNER_ID`` or ``"tuner0"``).
    logger : optional
        Accepted for KerasTuner compatibility: tunelab logs through `logging` (logger
        ``"tunelab"``); a `logging.Logger` given here receives this tuner's records instead.
        See `tunelab.log`.
    trial_timeout : float, optional
        Seconds a trial may run; a slower trial fails ("ran longer than trial_timeout") and
        the search goes on. See `tunelab.timeout.time_limit` for what it can stop.
    backend : str, optional
        Force a backend by name (``"sklearn"``, ``"keras"``) instead of choosing it from the
        model the hypermodel returns.
    executor : str, Executor or distributed.Client, optional
        Where trials run: ``"inline"`` (default, in this process), ``"process"`` (a local
        process pool), ``"dask"`` or a Dask client. See `tunelab.executors`; `search`
        accepts the same argument.
    max_parallel_trials : int, optional
        Trials run at the same time by the executor (> 1 without an executor: a process
        pool).
    pruner : kt.pruners.Pruner, optional
        Stops running trials early from the steps they report (see `tunelab.pruners`); it
        becomes the oracle's `pruner`, replacing one the oracle had.
    pareto : bool, optional
        With an objective list, search for the Pareto front instead of the best sum (see
        `kt.oracles.Oracle`); becomes the oracle's `pareto`. `get_pareto_front()` returns
        the front.
    constraints : dict, optional
        ``{metric name: upper bound}`` for the oracle (see `kt.oracles.Oracle`).
    **kwargs
        Backend arguments (``cv``, ``scoring``, ``loss``, ``metrics``...), checked by the
        backend.

    Examples
    --------
    >>> import tunelab as kt
    >>> def objective(hp):
    ...     return (hp.Float("x", -5.0, 5.0) - 1.0) ** 2
    >>> tuner = kt.RandomSearch(objective, objective="loss", max_trials=5, seed=0,
    ...                         directory="/tmp/tunelab-doc", project_name="doc", overwrite=True)
    >>> tuner.search(verbose=0)
    >>> len(tuner.oracle.trials)
    5
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        tuner_id: str | None = None,
        logger: Any = None,
        backend: str | None = None,
        trial_timeout: float | None = None,
        executor: Any = None,
        max_parallel_trials: int | None = None,
        pruner: Any = None,
        pareto: bool | None = None,
        constraints: Any = None,
        storage: Any = None,
        **kwargs: Any,
    ) -> None:
        if executor is not None or max_parallel_trials is not None:
            from tunelab.executors import resolve_executor

            resolve_executor(executor, max_parallel_trials)  # bad values fail here, not later
        self.executor = executor
        self.max_parallel_trials = max_parallel_trials
        self.trial_timeout = check_seconds("trial_timeout", trial_timeout)
        if not isinstance(oracle, Oracle):
            raise TypeError(f"oracle={oracle!r}: expected a kt.oracles.Oracle instance")
        if pruner is not None:
            oracle.pruner = check_pruner(pruner)
        if pareto is not None:
            if not isinstance(pareto, bool):
                raise TypeError(f"pareto={pareto!r}; expected True, False or None")
            oracle.pareto = pareto
        if constraints is not None:
            oracle.constraints = check_constraints(constraints)
        self.oracle = oracle
        self.hypermodel: HyperModel | None = as_hypermodel(hypermodel)
        if self.hypermodel is None and type(self).run_trial is BaseTuner.run_trial:
            raise ValueError(
                f"{type(self).__name__} needs a hypermodel: a function hp -> model or result, "
                "or a kt.HyperModel. Pass hypermodel=..., or subclass the tuner and override "
                "run_trial(trial, ...)."
            )
        self.logger = logger
        self.tuner_id = tuner_id or os.environ.get("KERASTUNER_TUNER_ID") or "tuner0"
        if directory is None and project_name is None and oracle.project_dir is not None:
            self.project_dir = oracle.project_dir
            self._location = str(self.project_dir)
        else:
            self.project_dir = project_path(directory, project_name)
        # Shown as KerasTuner shows it: os.path.join(directory, project_name).
        self._location = os.path.join(
            str(self.project_dir.parent) if directory is None else os.fspath(directory),
            self.project_dir.name,
        )
        self.directory = str(self.project_dir.parent)
        self.project_name = self.project_dir.name
        self.backend_kwargs = kwargs
        self._backend: Backend | None = None
        self._search_checked = False  # see _trial_backend
        if kwargs:
            unknown = sorted(set(kwargs) - plugins.backend_options())
            if unknown:
                raise TypeError(
                    f"{type(self).__name__} got unexpected keyword argument(s) {unknown}; "
                    "backend arguments are accepted only when an installed backend knows them "
                    f"(installed backends accept: {sorted(plugins.backend_options())})"
                )
        if backend is not None:
            self._backend = plugins.backend_named(backend)
            self._backend.validate_options(kwargs)
        # Only a folder that holds a tunelab store is a project whose trial folders are ours
        # to delete; anything else named trial_* belongs to the user.
        was_project = (self.project_dir / STORE_FILENAME).is_file()
        moved = storage is not None and oracle._use_storage(storage)
        if oracle.store is None or oracle.project_dir != self.project_dir or overwrite or moved:
            oracle._attach(self.project_dir, overwrite)
        if pareto is not None or constraints is not None:
            oracle._record_pareto(oracle.study.storage)
        # A server store: the project existed there (its trial folders are ours to delete).
        was_project = was_project or bool(getattr(oracle.store, "existed", False))
        # A project of another tuner? (Also records a backend given here, for `tunelab summary`.)
        oracle.study.settings.check_tuner(type(self).__name__, self._backend)
        if overwrite and was_project:
            for path in self.project_dir.glob("trial_*"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
        self._unknown_entries: list[str] = []  # see _populate_initial_space
        if not self.oracle.study.storage.count_by_status():
            self._populate_initial_space()

    # ------------------------------------------------------------------------------------
    @property
    def hyperparameters(self) -> HyperParameters:
        """The search space (the oracle's)."""
        return self.oracle.hyperparameters

    @property
    def remaining_trials(self) -> int | None:
        """`max_trials` minus the trials created so far (those of a resumed project
        included), or None when `max_trials` is not set (KerasTuner's attribute)."""
        max_trials = self.oracle.max_trials
        if not max_trials:
            return None
        return max_trials - sum(self.oracle.study.storage.count_by_status().values())

    @property
    def executions_per_trial(self) -> int:
        """How many times each trial's model is trained (a backend argument; 1 unless given).
        A `run_trial` override may read it to run several executions."""
        return int(self.backend_kwargs.get("executions_per_trial", 1))

    @executions_per_trial.setter
    def executions_per_trial(self, value: int) -> None:
        if value == 1 and "executions_per_trial" not in self.backend_kwargs:
            return  # the default: no backend argument to add
        self.backend_kwargs["executions_per_trial"] = check_int("executions_per_trial", value, 1)

    # ------------------------------------------------------------------------------------
    # The search space, known at construction
    # ------------------------------------------------------------------------------------
    def _builds_at_construction(self) -> bool:
        """Whether the constructor may build the hypermodel to find its space.

        KerasTuner builds every hypermodel there. Ours may also be a function objective that
        trains and returns a result, which must not run before `search`: a plain function is
        built only when it is known to return models (a tuner with a `backend`, such as
        `kt.Tuner`). Nothing is built when trials run in other processes (an executor,
        ``trial_isolation``): a model built here would load the framework, and claim a GPU,
        in the driver. The space is then found by the first trial, or by
        `search_space_summary`.
        """
        if self.hypermodel is None:
            return False
        if (
            self.executor is not None
            or self.max_parallel_trials is not None
            or self.backend_kwargs.get("trial_isolation")
        ):
            return False
        if isinstance(self.hypermodel, FunctionHyperModel):
            return self._backend is not None and builds_alone(self.hypermodel)
        return True

    def _populate_initial_space(self) -> None:
        """Build the hypermodel now, when it may be (`_builds_at_construction`), so that
        ``oracle.get_space()`` and `search_space_summary` know the space before any trial.
        Names that ``allow_new_entries=False`` refuses are kept for `search` to raise."""
        if self._builds_at_construction():
            self._unknown_entries = populate_space(self.hypermodel, self.oracle)
        elif builds_alone(self.hypermodel):
            # Not built yet (it may be an objective that trains): built when the space is
            # first asked for before the search, by oracle.get_space() or
            # search_space_summary(), and never once the search has started.
            self.oracle._space_finder = self._discover_space  # type: ignore[attr-defined]

    # ------------------------------------------------------------------------------------
    # The loop
    # ------------------------------------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until `max_trials` trials have finished or the space is exhausted.

        Positional and keyword arguments go to `run_trial` (and from there to the objective
        function or the backend's `fit`). A resumed project continues where it stopped.
        ``executor=`` and ``max_parallel_trials=`` (see the constructor) run trials in
        worker processes or on a Dask cluster instead of in this process.
        """
        from tunelab.executors import InlineExecutor, resolve_executor
        from tunelab.runner import run_search

        self.oracle.__dict__.pop("_space_finder", None)  # trials find the space now
        check_new_entries(self._unknown_entries, self.oracle)
        self._search_checked = False  # new arguments: the backend checks them again
        self._progress_mode = check_progress(fit_kwargs.pop("progress", None))  # see _progress
        executor = fit_kwargs.pop("executor", self.executor)
        max_parallel_trials = fit_kwargs.pop("max_parallel_trials", self.max_parallel_trials)
        resolved = None
        if executor is not None or max_parallel_trials is not None:
            resolved = resolve_executor(executor, max_parallel_trials)
        run_search(self, resolved or InlineExecutor(), fit_args, fit_kwargs)

    def _progress(self, verbose: Any) -> SearchProgress:
        """The bar and lines for this search, starting from what the project already has."""
        best = self.oracle.get_best_trials(1)
        return SearchProgress(
            self.oracle.objective,
            verbose,
            total=self.oracle.max_trials,
            done=self._finished_count(),
            best=best[0] if best else None,
            logger=self.logger,
            progress=getattr(self, "_progress_mode", None),
            project=self._location,
        )

    def _finished_count(self) -> int:
        return self.oracle.study.finished_count()

    def _interrupted(self) -> None:
        """Ctrl-C: one line, not a traceback, in a script; back to the prompt in a notebook."""
        finished = self._finished_count()
        print(
            f"Search interrupted: {finished} finished trials are kept in {self._location}; "
            "the interrupted trial runs again when the same search is started again.",
            file=sys.stderr,
        )
        if hasattr(sys, "ps1") or "IPython" in sys.modules:
            raise KeyboardInterrupt
        raise SystemExit(130)

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Evaluate one trial and return its result, or report metrics with
        `self.oracle.update_trial` and return None.

        An override returns what KerasTuner's `run_trial` may: a number (the objective's
        value; ``default_objective``, minimized, when no objective was given), a dict of
        metrics, a Keras ``History`` (its best epoch's metrics count, at that epoch), or a
        list of these, one per execution (averaged). Anything else, or None with nothing
        reported, stops the search with a TypeError (`tunelab.outcomes.ResultTypeError`).

        The default builds the hypermodel: a returned number or dict is the result; a model
        is trained and evaluated by the backend that owns it.
        """
        # A backend known from earlier trials (or backend=) may need the model built in a
        # context of its own (a distribution strategy's scope): built once, not rebuilt.
        context = self._trial_context(trial, args, kwargs)
        with context.build_scope():
            built = self._build(trial.hyperparameters, args, kwargs, trial)
        if self._is_result(built, trial):
            return built
        backend = self._trial_backend(built, context, args, kwargs)
        built, kwargs = self._continue_trial(trial, backend, built, kwargs)
        if takes_tuner(backend.run_trial):  # a backend written before TrialContext
            return backend.run_trial(self, trial, built, *args, **kwargs)  # type: ignore[arg-type,call-arg]
        return backend.run_trial(context, built, *args, **kwargs)

    def _trial_context(self, trial: Trial, args: tuple, kwargs: dict[str, Any]) -> TrialContext:
        """What the backend gets for `trial` (see `tunelab.context`): this tuner's oracle
        (a `WorkerOracle` in a worker) reads and reports, and its methods build, save and
        load models, so that subclasses overriding them are honoured."""
        oracle = self.oracle

        def scope() -> Any:
            backend = self._backend
            if backend is None:
                return contextlib.nullcontext()
            return backend.build_scope(self if takes_tuner(backend.build_scope) else context)  # type: ignore[arg-type]

        def load(trial_id: str) -> Any:
            return self.load_model(oracle.get_trial(trial_id))

        def record_meta(key: str, value: Any) -> None:
            oracle.study.storage.set_meta(key, value)

        context = TrialContext(
            trial,
            oracle=oracle,
            options=self.backend_kwargs,
            project_dir=self.project_dir,
            build=lambda hp: self._build(hp, args, kwargs),
            save_model=lambda model: self.save_model(trial.trial_id, model),  # type: ignore[arg-type]
            load_model=load,
            hypermodel=self.hypermodel,
            hooks=self,
            scope=scope,
            max_epochs=getattr(oracle, "max_epochs", None),
            refits_at_search_end=bool(getattr(self, "refits_at_search_end", False)),
            record_meta=record_meta,
        )
        return context

    def _continue_trial(
        self, trial: Trial, backend: Backend, model: Any, kwargs: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """The model and fit arguments of a trial that continues an earlier one (Hyperband
        overrides it); by default the model as built and the arguments as given."""
        return model, kwargs

    def _is_result(self, built: Any, trial: Trial) -> bool:
        """Whether what the hypermodel returned is the trial's result rather than a model:
        a number, a dict or a list of dicts, or None from a function that reported its
        metrics with `trial.report` (None with nothing reported is a TypeError)."""
        if is_trial_result(built):
            return True
        if built is None and isinstance(self.hypermodel, FunctionHyperModel):
            if trial.metrics.metrics:
                return True
            name = getattr(self.hypermodel.function, "__name__", "the objective function")
            raise TypeError(
                f"{name} returned None: an objective function must return a number, a dict "
                "of metric name -> number, or a model; or take a `trial` argument and report "
                "with trial.report(value, step)"
            )
        return False

    def _trial_result(self, trial: Trial, value: Any) -> Any:
        """What `run_trial` returned, as the result the oracle is told, by KerasTuner's rules
        for a `run_trial` override (see `tunelab.outcomes.trial_result`); called wherever
        the trial ran. The default `run_trial`'s results are told as they are."""
        overridden = type(self).run_trial is not BaseTuner.run_trial
        source = f"{type(self).__name__}.run_trial()" if overridden else None
        return trial_result(value, trial, self.oracle.objective, source)

    def _build(
        self, hp: HyperParameters, args: tuple, kwargs: dict[str, Any], trial: Trial | None = None
    ) -> Any:
        if self.hypermodel is None:
            raise ValueError(f"{type(self).__name__} has no hypermodel to build")
        return build_hypermodel(self.hypermodel, hp, args, kwargs, trial)

    def _trial_backend(
        self, model: Any, context: TrialContext, args: tuple, kwargs: dict[str, Any]
    ) -> Backend:
        """The backend for a trial's `model`. The first model of each search also has the
        backend check the search's arguments, so that bad data stops the search before
        anything trains. (Checked here, not when `search` starts, because only a built
        model names its backend, and building a plain function objective runs the trial.)"""
        backend = self._backend_for(model)
        if not self._search_checked:
            if takes_tuner(backend.validate_search):  # a backend written before TrialContext
                backend.validate_search(self, model, args, kwargs)  # type: ignore[arg-type]
            else:
                backend.validate_search(context, model, args, kwargs)
            self._search_checked = True
        return backend

    def _backend_for(self, model: Any) -> Backend:
        if self._backend is None:
            backend = plugins.backend_for(model)
            backend.validate_options(self.backend_kwargs)
            self._backend = backend
            store = self.oracle.study.storage
            store.set_meta("backend", backend.name)
        return self._backend

    # ------------------------------------------------------------------------------------
    # Hooks (no-ops; override in subclasses)
    # ------------------------------------------------------------------------------------
    def on_search_begin(self) -> None:
        """Called once before the first trial of `search`."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before each trial runs."""

    def on_trial_end(self, trial: Trial) -> None:
        """Called after each trial's result is stored."""

    def on_search_end(self) -> None:
        """Called once when `search` ends."""

    # ------------------------------------------------------------------------------------
    # Models
    # ------------------------------------------------------------------------------------
    def get_trial_dir(self, trial_id: str) -> Path:
        return self.project_dir / f"trial_{trial_id}"

    def _saved_backend(self) -> Backend:
        if self._backend is not None:
            return self._backend
        name = self.oracle.study.storage.get_meta("backend")
        if name is None:
            raise RuntimeError(
                "this search's trials returned results, not models, so there are no models "
                "to load: use get_best_hyperparameters() instead"
            )
        self._backend = plugins.backend_named(name)
        return self._backend

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """Save a trial's model in its folder (with the backend that owns it)."""
        backend = self._backend_for(model)
        folder = self.get_trial_dir(trial_id)
        folder.mkdir(parents=True, exist_ok=True)
        backend.save_model(model, folder / backend.model_filename)

    def load_model(self, trial: Trial) -> Any:
        """Load the model saved for `trial`."""
        backend = self._saved_backend()
        path = self.get_trial_dir(trial.trial_id) / backend.model_filename  # type: ignore[arg-type]
        if not path.exists():
            raise FileNotFoundError(f"no model was saved for trial {trial.trial_id} ({path})")
        if names_parameter(backend.load_model, "rebuild"):
            # For a file the backend cannot load alone (a Keras subclassed model): the
            # trial's model built anew, to load the saved weights into.
            hp = trial.hyperparameters.copy()
            return backend.load_model(path, rebuild=lambda: self._build(hp, (), {}))
        return backend.load_model(path)

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trials' models, best first."""
        num_models = check_int("num_models", num_models, 1)
        return [self.load_model(t) for t in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The best trials' hyperparameters, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return self.oracle.get_best_trials(num_trials)

    def get_pareto_front(self) -> list[Trial]:
        """The completed trials on the Pareto front of the objectives (see
        `kt.oracles.Oracle.get_pareto_front`)."""
        return self.oracle.get_pareto_front()

    # ------------------------------------------------------------------------------------
    # Summaries
    # ------------------------------------------------------------------------------------
    def search_space_summary(self, extended: bool = False) -> None:
        """Print the search space in KerasTuner's format.

        Before the first trial, the hypermodel is built once with default values to find its
        hyperparameters (as KerasTuner does at construction).
        """
        if not self.oracle.hyperparameters.space and not self.oracle.trials:
            self._discover_space()
        print(search_space_summary_text(self.oracle.hyperparameters))

    def _discover_space(self) -> None:
        """The space of a hypermodel not built at construction, for a summary asked before
        any trial: built now, when it can be from the hyperparameters alone."""
        self.oracle.__dict__.pop("_space_finder", None)  # once
        if builds_alone(self.hypermodel):
            self._unknown_entries = populate_space(self.hypermodel, self.oracle)

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best `num_trials` trials in KerasTuner's format."""
        best = self.oracle.get_best_trials(num_trials) if num_trials > 0 else []
        print(results_summary_text(self._location, self.oracle.objective, best, num_trials))
        if self.oracle.pareto or self.oracle.constraints:
            from tunelab.results import load_results

            print("\n" + front_summary_text(load_results(self)))
        counts = self.oracle.study.storage.count_by_status()
        failed = counts.get(TrialStatus.FAILED, 0)
        if failed:
            print(
                f"\n{failed} trial(s) failed; read one's error with "
                "tuner.oracle.get_trial(trial_id).message"
            )

    def results_dataframe(self, history: bool = False) -> Any:
        """The trials as a pandas DataFrame: one row per trial (values, score, metrics,
        status, duration), or with ``history=True`` one row per trial, metric and step.
        See `tunelab.results.results_dataframe`."""
        from tunelab.results import results_dataframe

        return results_dataframe(self, history=history)

    def export_results(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the trials to a CSV or JSON file (format from the suffix by default).
        See `tunelab.results.export_results`."""
        from tunelab.results import export_results

        return export_results(self, path, format=format)

    # KerasTuner compatibility: the store is always up to date.
    def get_state(self) -> dict[str, Any]:
        return {"tuner_id": self.tuner_id, "oracle": self.oracle.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.tuner_id = state.get("tuner_id", self.tuner_id)

    def save(self) -> None:
        """Nothing to do: every change is already in the store."""

    def reload(self) -> None:
        """Nothing to do: the store is read when the tuner is created."""

    # KerasTuner's Tuner attributes: the backend arguments as given, None when not given.
    optimizer = property(
        lambda self: self.backend_kwargs.get("optimizer"),
        lambda self, value: _set_backend_argument(self, "optimizer", value),
        doc="The ``optimizer=`` given to the tuner (None: the hypermodel's own).",
    )
    loss = property(
        lambda self: self.backend_kwargs.get("loss"),
        lambda self, value: _set_backend_argument(self, "loss", value),
        doc="The ``loss=`` given to the tuner (None: the hypermodel's own).",
    )
    metrics = property(
        lambda self: self.backend_kwargs.get("metrics"),
        lambda self, value: _set_backend_argument(self, "metrics", value),
        doc="The ``metrics=`` given to the tuner (None: the hypermodel's own).",
    )
    max_model_size = property(
        lambda self: self.backend_kwargs.get("max_model_size"),
        lambda self, value: _set_backend_argument(self, "max_model_size", value),
        doc="The ``max_model_size=`` given to the tuner (None: no limit).",
    )
    distribution_strategy = property(
        lambda self: self.backend_kwargs.get("distribution_strategy"),
        lambda self, value: _set_backend_argument(self, "distribution_strategy", value),
        doc="The ``distribution_strategy=`` given to the tuner (None: none).",
    )


def _set_backend_argument(tuner: BaseTuner, name: str, value: Any) -> None:
    """Setting one of KerasTuner's attributes changes the backend argument (None removes
    it, so that a backend that does not know it is not handed it)."""
    if value is None:
        tuner.backend_kwargs.pop(name, None)
    else:
        tuner.backend_kwargs[name] = value
