"""The oracle base: an oracle proposes the values each new trial tries, and nothing else.

A subclass implements one method, `populate_space(trial_id)`, returning the values to try
as KerasTuner's ``{"status": "RUNNING", "values": {...}}`` (or ``"STOPPED"`` when the space
is exhausted, ``"IDLE"`` to wait for running trials), or simply the values dict (None when
exhausted). The sampling helpers here (`rng`, `random_values`, `design_point`, `tried`,
KerasTuner's `_random_values`) take the id it was given. The books (the store, trial ids,
claims, enqueued configurations, retries, the failure limit, de-duplication, resuming) are
the study's (`tunelab.study.Study`); the KerasTuner-named methods of this class hand over
to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tunelab.checks import check_int
from tunelab.configurations import load_configurations
from tunelab.hyperparameters import _OVERRIDE, Fixed, HyperParameter, HyperParameters
from tunelab.objective import create_objective
from tunelab.oracles.ask_tell import AskTellMethods
from tunelab.oracles.designs import check_design, design_points
from tunelab.oracles.multi_objective import check_constraints
from tunelab.pruners.base import Pruner, check_pruner
from tunelab.storage import Storage, project_path
from tunelab.storage.url import check_storage
from tunelab.study import WAIT, Study, TrialId, iter_active, value_hash
from tunelab.trial import Trial

__all__ = ["WAIT", "Oracle", "iter_active", "value_hash"]


class Oracle(AskTellMethods):
    """Base class of the oracles: decides which hyperparameter values to try next.

    Parameters
    ----------
    objective : str, Objective or list, optional
        What to optimize; a name's direction is inferred (accuracy-like: max, loss-like: min).
    max_trials : int, optional
        The most trials to run (finished trials of a resumed project count).
    hyperparameters : HyperParameters, optional
        Definitions that override the hypermodel's (or register it in advance).
    allow_new_entries : bool
        Whether the hypermodel may register hyperparameters not in `hyperparameters`.
    tune_new_entries : bool
        Whether such new hyperparameters are tuned (else they stay at their default).
    seed : int, optional
        Same seed, same sequence of trials.
    max_retries_per_trial : int
        How many times a failing trial is run again.
    max_consecutive_failed_trials : int
        The search stops with an error after this many failed trials in a row.
    initial_trials : list of dict or path to a CSV file, optional
        Configurations to try first (partial ones are completed by the oracle).
    initial_design : {"random", "lhs", "sobol"}
        How the first `num_initial_points` trials spread over the space.
    num_initial_points : int, optional
        How many trials the initial design places (default: the oracle's choice).
    directory, project_name : str, optional
        Where the trial store lives when the oracle is used on its own (ask/tell). A tuner
        sets these itself. Without them the store lives in memory.
    overwrite : bool
        Start the project clean instead of resuming it.
    storage : str or Storage, optional
        Keep the trials in this storage instead of the SQLite file of
        `directory/project_name`: a PostgreSQL URL
        (``"postgresql://user:password@host:5432/database"``, the project named by
        `project_name`, shared by processes on many hosts; needs ``tunelab[postgres]``) or
        any `tunelab.storage.Storage`.
    pruner : kt.pruners.Pruner, optional
        Decides, at each step a running trial reports, whether it stops early (see
        `tunelab.pruners`). None: trials are never stopped early.
    pareto : bool, optional
        With an objective list: look for the Pareto front of the objectives instead of the
        best sum (KerasTuner's meaning, the default). `get_best_trials` then ranks trials by
        non-domination, then crowding; `get_pareto_front` returns the front. Oracles that are
        multi-objective by nature (`NSGA2Oracle`, `ParEGOOracle`) default to True.
    constraints : dict, optional
        ``{metric name: upper bound}``: a trial whose last reported value of such a metric
        is above its bound is infeasible, and ranked after every feasible trial.

    Attributes
    ----------
    learns_from_results : bool
        Whether the values proposed depend on earlier trials' results. Random and grid
        search do not: their trials may run in any order and be told in any order.
    places_enqueued_trials : bool
        Whether `populate_space` takes enqueued configurations itself (from
        ``self.study.storage.pop_queue()``) and checks for repeats, instead of the study.

    A subclass implements `populate_space`; the study (`self.study`) keeps the books. The
    public ask/tell methods below hand over to it.

    Examples
    --------
    A custom oracle, written as for KerasTuner:

    >>> import tunelab as kt
    >>> class Walk(kt.Oracle):
    ...     def populate_space(self, trial_id):
    ...         x = 0.25 * int(trial_id)
    ...         if x > 1.0:
    ...             return {"status": "STOPPED", "values": None}
    ...         return {"status": "RUNNING", "values": {"x": x}}
    >>> hp = kt.HyperParameters()
    >>> hp.Float("x", 0.0, 1.0)
    0.0
    >>> oracle = Walk(objective="loss", max_trials=10, hyperparameters=hp)
    >>> while (trial := oracle.ask()) is not None:
    ...     _ = oracle.tell(trial, (trial.hyperparameters.get("x") - 0.6) ** 2)
    The search space is exhausted after 5 trials: every configuration has been tried. The search stops here.
    >>> oracle.get_best_trials()[0].hyperparameters.get("x")
    0.5
    """

    # Subclasses set this to the design they use when the user does not choose.
    default_initial_design = "random"
    # Whether proposals depend on earlier results: the runner then tells results in ask
    # order, so a seeded search is reproducible (False: random and grid search, and ASHA).
    learns_from_results: bool = True
    places_enqueued_trials = False
    # Whether the oracle searches for a Pareto front unless told `pareto=False`.
    pareto_by_nature = False
    # How many proposals in a row may repeat tried configurations before the space counts
    # as exhausted (KerasTuner's name and value).
    _max_collisions = 20

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        initial_trials: Any = None,
        initial_design: str | None = None,
        num_initial_points: int | None = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        storage: Storage | str | None = None,
        pruner: Pruner | None = None,
        pareto: bool | None = None,
        constraints: Any = None,
    ) -> None:
        self.objective = create_objective(objective)
        if pareto is not None and not isinstance(pareto, bool):
            raise TypeError(f"pareto={pareto!r}; expected True, False or None")
        self.pareto = self.pareto_by_nature if pareto is None else pareto
        self.constraints = check_constraints(constraints)
        self.pruner = check_pruner(pruner)
        self.max_trials = check_int("max_trials", max_trials, 1, allow_none=True)
        if hyperparameters is not None and not isinstance(hyperparameters, HyperParameters):
            raise TypeError(f"hyperparameters={hyperparameters!r}; expected a kt.HyperParameters")
        # As KerasTuner: without a space given, there is nothing to tune but new entries.
        for name, value, others in (
            ("tune_new_entries", tune_new_entries, "stay at their default"),
            ("allow_new_entries", allow_new_entries, "are refused"),
        ):
            if hyperparameters is None and not value:
                raise ValueError(
                    f"{name}=False needs the search space: pass hyperparameters=, a "
                    "kt.HyperParameters with the hyperparameters to tune (the hypermodel's "
                    f"others {others})"
                )
        self.hyperparameters = HyperParameters()
        if hyperparameters is not None:
            self.hyperparameters.merge(hyperparameters, origin=_OVERRIDE)
            self.hyperparameters.values = {}
        self.allow_new_entries = bool(allow_new_entries)
        self.tune_new_entries = bool(tune_new_entries)
        self.seed = check_int("seed", seed, 0, allow_none=True)
        self._base_seed = (
            self.seed
            if self.seed is not None
            else int(np.random.SeedSequence().generate_state(1)[0])
        )
        self.max_retries_per_trial = check_int("max_retries_per_trial", max_retries_per_trial, 0)
        self.max_consecutive_failed_trials = check_int(
            "max_consecutive_failed_trials", max_consecutive_failed_trials, 1, allow_none=True
        )
        self.initial_design = check_design(initial_design or self.default_initial_design)
        self.num_initial_points = check_int(
            "num_initial_points", num_initial_points, 0, allow_none=True
        )
        self._initial_trials = (
            None if initial_trials is None else load_configurations(initial_trials)
        )
        self._study: Study | None = None
        self.project_dir: Path | None = None
        storage = check_storage(storage)
        self._storage_url = storage if isinstance(storage, str) else None
        self._storage = storage if isinstance(storage, Storage) else None
        if storage is not None or directory is not None or project_name is not None:
            self._attach(project_path(directory, project_name), overwrite)

    # ------------------------------------------------------------------------------------
    # The study and its store
    # ------------------------------------------------------------------------------------
    def _attach(self, project_dir: Path | None, overwrite: bool = False) -> None:
        """Open (or create) the project's store and resume what a previous run left. With
        a `storage` given to the constructor, trials stay there and `project_dir` only
        holds model files."""
        self.project_dir = project_dir
        if self._storage is not None:
            if overwrite:
                raise ValueError(
                    "overwrite=True with a storage= given: a storage is cleared by its owner, "
                    "not by the tuner; pass a new storage instead"
                )
            if self._study is None:
                self._study = Study(self, self._storage)
                self._study.resume()
            return
        if self._study is not None:
            self._study.storage.close()
            self._study = None
        self._study = Study.open(self, project_dir, overwrite, self._storage_url)
        self._study.resume()

    def _use_storage(self, storage: Any) -> bool:
        """Keep the trials in `storage` (a URL; a tuner's ``storage=``) from the next
        `_attach` on; whether that changes where they are."""
        storage = check_storage(storage)
        if isinstance(storage, Storage):
            if storage is self._storage:
                return False
            if self._study is not None:
                self._study.storage.close()
                self._study = None
            self._storage, self._storage_url = storage, None
            return True
        changed = storage != self._storage_url
        self._storage_url = storage
        return changed

    @property
    def study(self) -> Study:
        """The books of this search (an in-memory store until a project is attached)."""
        if self._study is None:
            self._attach(None)
        assert self._study is not None
        return self._study

    @property
    def store(self) -> Storage | None:
        """The project's trial store (None before one is opened)."""
        return None if self._study is None else self._study.storage

    def on_resume(self, study: Study) -> None:
        """Called when the project's store is opened, inside the transaction that saves the
        search's settings: check or save settings of this oracle's own."""
        self._record_pareto(study.storage)

    def _record_pareto(self, storage: Storage) -> None:
        """Keep `pareto` and `constraints` in the store, for readers of the project (the
        results' rank column, `tunelab pareto`)."""
        if self.pareto or self.constraints or storage.get_meta("pareto") is not None:
            storage.set_meta("pareto", {"pareto": self.pareto, "constraints": self.constraints})

    # KerasTuner's names for the project: every change is in the store already.
    def _set_project_dir(self, directory: str | os.PathLike, project_name: str) -> None:
        """Keep the trials in `directory/project_name` (KerasTuner's tuners call this; so
        does code that drives an oracle by itself)."""
        self._attach(project_path(directory, project_name))

    def save(self) -> None:
        """Nothing to do: every trial and the space are in the store as soon as they change."""

    def reload(self) -> None:
        """Nothing to do: trials are read from the store whenever they are asked for."""

    def remaining_trials(self) -> int | None:
        """How many more trials may start (None without `max_trials`)."""
        if self.max_trials is None:
            return None
        return max(0, self.max_trials - self.study.storage.next_number())

    # ------------------------------------------------------------------------------------
    # What subclasses implement
    # ------------------------------------------------------------------------------------
    def populate_space(self, trial_id: Any) -> Any:
        """The values for the trial `trial_id` (a string, KerasTuner's contract).

        Return ``{"status": "RUNNING", "values": {name: value}}`` (active hyperparameters;
        left-out ones are drawn by `sample_new`), ``{"status": "STOPPED", "values": None}``
        when the space is exhausted, or ``{"status": "IDLE", "values": None}`` when only
        running trials can tell what comes next. The values dict alone, None and `WAIT`
        say the same. The id also reads as the trial (`trial_id.number`), and the helpers
        take it: ``self.rng(trial_id)``, ``self.random_values(trial_id)``,
        ``self._random_values()``. A proposal that repeats a tried configuration is asked
        for again, up to `_max_collisions` times in a row.
        """
        raise NotImplementedError

    @staticmethod
    def _response(values: Any) -> dict[str, Any]:
        """KerasTuner's form of a proposal: a values dict, None (exhausted) or `WAIT`."""
        if values is None:
            return {"status": "STOPPED", "values": None}
        if values is WAIT:
            return {"status": "IDLE", "values": None}
        return {"status": "RUNNING", "values": values}

    def _trial_for(self, trial: Trial | str) -> Trial:
        """The trial of a `populate_space` argument: a Trial, the study's `TrialId`, or a
        plain id string (e.g. from a subclass that calls ``super().populate_space(id)``)."""
        if isinstance(trial, TrialId):
            return trial.trial
        if isinstance(trial, Trial):
            return trial
        if not isinstance(trial, str):
            raise TypeError(f"trial_id={trial!r}: expected a trial id string or a Trial")
        study = self.study
        if study.populating is not None and study.populating.trial_id == trial:
            return study.populating
        if trial in study.running:
            return study.running[trial]
        if not trial.isdigit():
            raise ValueError(
                f"trial_id={trial!r} is not the trial being populated; expected its id"
            )
        made = Trial(HyperParameters(), trial_id=trial)
        made.number = int(trial)
        return made

    def sample_new(self, hp: HyperParameter, trial: Trial) -> Any:
        """The value of a hyperparameter first registered while `trial` runs (define-by-run)."""
        return hp.from_unit(self.rng(trial).random())

    def should_stop(self, trial: Trial, step: int) -> bool:
        """Whether a running trial that just reported `step` should stop early, by a rule
        of the oracle's own (asked before its `pruner`; prefer a `kt.pruners.Pruner`)."""
        return False

    # ------------------------------------------------------------------------------------
    # Helpers for subclasses
    # ------------------------------------------------------------------------------------
    def rng(self, trial: Trial | str) -> np.random.Generator:
        """The trial's own random stream: it depends only on the seed and the trial number,
        so the same seed gives the same trials whatever the order of processes."""
        if isinstance(trial, str) and not isinstance(trial, TrialId):
            trial = self._trial_for(trial)
        rng = getattr(trial, "_rng", None)
        if rng is None:
            rng = np.random.default_rng([self._base_seed, trial.number or 0])
            trial._rng = rng  # type: ignore[union-attr]
        return rng

    def random_values(self, trial: Trial | str, unit: np.ndarray | None = None) -> dict[str, Any]:
        """Values drawn at random (or from `unit`, a point of the cube, one coordinate per
        hyperparameter in space order) for the active hyperparameters."""
        values: dict[str, Any] = {}
        rng = self.rng(trial)
        for index, hp in enumerate(self.hyperparameters.space):
            if not all(c.is_active(values) for c in hp.conditions):
                continue
            if isinstance(hp, Fixed):
                values[hp.name] = hp.value
            else:
                u = rng.random() if unit is None else unit[index]
                values[hp.name] = hp.from_unit(u)
        return values

    def design_point(self, trial: Trial | str) -> np.ndarray | None:
        """The trial's point of the initial design, or None past the design."""
        if isinstance(trial, str) and not isinstance(trial, TrialId):
            trial = self._trial_for(trial)
        n = self.num_initial_points
        number = trial.number or 0
        if self.initial_design == "random" or not n or number >= n:
            return None
        dim = len(self.hyperparameters.space)
        key = (n, dim)
        cache = getattr(self, "_design_cache", {})
        if key not in cache:
            cache[key] = design_points(self.initial_design, n, dim, self._base_seed)
            self._design_cache = cache
        return cache[key][number]

    def tried(self, values: dict[str, Any]) -> bool:
        """Whether a trial with these values exists (in any process)."""
        return self.study.storage.has_values(value_hash(values))

    def _random_values(self) -> dict[str, Any] | None:
        """KerasTuner's helper for custom oracles: random values for the active
        hyperparameters of the trial being populated, drawn again while they repeat a
        tried configuration; None after `_max_collisions` repeats (the space is
        exhausted)."""
        populating = self.study.populating
        trial = populating if populating is not None else Trial(HyperParameters())
        for _ in range(1 + self._max_collisions):
            values = self.random_values(trial)
            if not self.tried(values):
                return values
        return None
