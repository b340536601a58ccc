"""The oracle base: ask for a trial, tell its result; everything kept in the trial store.

A subclass implements one method, `populate_space(trial)`, returning the values to try (or
None when the space is exhausted). The base class does the rest: the store, trial ids,
enqueued configurations, retries, failure limits, de-duplication, define-by-run sampling and
resuming trials whose process died.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tunelab.configurations import load_configurations
from tunelab.errors import TooManyFailedTrialsError
from tunelab.hyperparameters import _OVERRIDE, _STORED, Fixed, HyperParameter, HyperParameters
from tunelab.objective import Objective, create_objective
from tunelab.oracles.designs import check_design, design_points
from tunelab.oracles.outcomes import (
    format_error,
    latest_values,
    metric_dicts,
    objective_score,
)
from tunelab.store import STORE_FILENAME, Store, StoreError, dumps, loads, project_path
from tunelab.trial import MetricsTracker, Trial, TrialStatus

__all__ = ["Oracle"]

_HOST = socket.gethostname()


def _check_int(name: str, value: Any, minimum: int, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = f"an int >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name}={value!r}; expected {expected}")
    return int(value)


def value_hash(values: dict[str, Any]) -> str:
    """A stable digest of a configuration (its active values)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _process_is_dead(host: str | None, pid: int | None) -> bool:
    """Whether the process that owns a running trial is gone (only knowable on this host)."""
    if host != _HOST or pid is None or pid == os.getpid():
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            if handle.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return True  # a zombie: killed, not yet reaped
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def iter_active(space: list[HyperParameter], values: dict[str, Any]) -> Iterator[HyperParameter]:
    """The hyperparameters of `space` that are active given `values`, in order.

    Parents are registered before their children, so one pass in order suffices; `values`
    is read as it is filled in by the caller.
    """
    for hp in space:
        if all(c.is_active(values) for c in hp.conditions):
            yield hp


class Oracle:
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
    """

    # Subclasses set this to the design they use when the user does not choose.
    default_initial_design = "random"
    # Whether proposals depend on earlier results: the runner then tells results in ask
    # order, so a seeded search is reproducible (False: random and grid search, and ASHA).
    learns_from_results: bool = True

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
    ) -> None:
        self.objective = create_objective(objective)
        self.max_trials = _check_int("max_trials", max_trials, 1, allow_none=True)
        if hyperparameters is not None and not isinstance(hyperparameters, HyperParameters):
            raise TypeError(f"hyperparameters={hyperparameters!r}; expected a kt.HyperParameters")
        self.hyperparameters = HyperParameters()
        if hyperparameters is not None:
            self.hyperparameters.merge(hyperparameters, origin=_OVERRIDE)
            self.hyperparameters.values = {}
        self.allow_new_entries = bool(allow_new_entries)
        self.tune_new_entries = bool(tune_new_entries)
        self.seed = _check_int("seed", seed, 0, allow_none=True)
        self._base_seed = (
            self.seed
            if self.seed is not None
            else int(np.random.SeedSequence().generate_state(1)[0])
        )
        self.max_retries_per_trial = _check_int("max_retries_per_trial", max_retries_per_trial, 0)
        self.max_consecutive_failed_trials = _check_int(
            "max_consecutive_failed_trials", max_consecutive_failed_trials, 1, allow_none=True
        )
        self.initial_design = check_design(initial_design or self.default_initial_design)
        self.num_initial_points = _check_int(
            "num_initial_points", num_initial_points, 0, allow_none=True
        )
        self._initial_trials = (
            None if initial_trials is None else load_configurations(initial_trials)
        )
        self.store: Store | None = None
        self.project_dir: Path | None = None
        self._running: dict[str, Trial] = {}
        self._consecutive_failures = 0
        self._first_failure: str | None = None
        self._failed_in_row: list[str] = []
        self._exhausted = False
        self._reported_changes: set[str] = set()
        if directory is not None or project_name is not None:
            self._attach(project_path(directory, project_name), overwrite)

    # ------------------------------------------------------------------------------------
    # The store
    # ------------------------------------------------------------------------------------
    def _attach(self, project_dir: Path | None, overwrite: bool = False) -> None:
        """Open (or create) the project's store and load what a previous run left."""
        if self.store is not None:
            self.store.close()
        self.project_dir = project_dir
        path = ":memory:" if project_dir is None else project_dir / STORE_FILENAME
        self.store = Store(path, overwrite=overwrite)
        self._load_from_store()
        if self._initial_trials and not self.store.get_meta("initial_trials_enqueued"):
            for values in self._initial_trials:
                self.enqueue_trial(values)
            self.store.set_meta("initial_trials_enqueued", True)

    def _store(self) -> Store:
        if self.store is None:
            self._attach(None)
        assert self.store is not None
        return self.store

    def _load_from_store(self) -> None:
        try:
            self._load_meta()
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            # Meta values are JSON this library wrote: anything else means a damaged file.
            raise StoreError(
                f"{self._store().path} is damaged: its stored search space or objective "
                f"cannot be read ({type(error).__name__}: {error}); it was left as it is"
            ) from error

    def _load_meta(self) -> None:
        store = self._store()
        stored_space = store.get_meta("space")
        if stored_space is not None:
            previous = HyperParameters.from_config({"space": stored_space})
            changes = []
            for hp in previous.space:
                current = self.hyperparameters._space.get(hp.name)
                if current is None:
                    self.hyperparameters._space[hp.name] = hp
                    self.hyperparameters._origin[hp.name] = _STORED
                elif current != hp:
                    changes.append(f"~ {hp.name}: stored {hp!r} -> now {current!r}")
            self._report_changes(changes)
        stored_objective = store.get_meta("objective")
        with store.transaction() as conn:
            if stored_objective is not None and stored_objective != self.objective.get_config():
                self._rescore(conn, stored_objective)
            store.set_meta("objective", self.objective.get_config(), conn)
            store.set_meta("space", self.hyperparameters.get_config()["space"], conn)
            store.set_meta(
                "oracle",
                {"class": type(self).__name__, "seed": self.seed, "max_trials": self.max_trials},
                conn,
            )

    def _rescore(self, conn: Any, stored_objective: dict[str, Any]) -> None:
        old = Objective.from_config(stored_objective)
        print(
            f"Objective changed since the last run: {old!r} -> {self.objective!r}; "
            "scores of finished trials are recomputed."
        )
        for row in self.store.select_trials("status IN ('COMPLETED', 'STOPPED')", conn=conn):  # type: ignore[union-attr]
            tracker = MetricsTracker.from_config(loads(row["metrics"]))
            score, best_step = objective_score(self.objective, tracker)
            status = row["status"] if score is not None and math.isfinite(score) else "INVALID"
            conn.execute(
                "UPDATE trials SET score=?, best_step=?, status=? WHERE number=?",
                (score if status != "INVALID" else None, best_step, status, row["number"]),
            )

    def _report_changes(self, changes: list[str]) -> None:
        fresh = [c for c in changes if c not in self._reported_changes]
        if fresh:
            print("The search space differs from the stored one; going on with the new space:")
            for line in fresh:
                print(f"  {line}")
            self._reported_changes.update(fresh)

    def _save_space(self, conn: Any) -> None:
        self._store().set_meta("space", self.hyperparameters.get_config()["space"], conn)

    # ------------------------------------------------------------------------------------
    # What subclasses implement
    # ------------------------------------------------------------------------------------
    def populate_space(self, trial: Trial) -> dict[str, Any] | None:
        """Return the values for `trial` (active hyperparameters only), or None when the space
        is exhausted. `trial.number` and `self.rng(trial)` are available."""
        raise NotImplementedError

    def sample_new(self, hp: HyperParameter, trial: Trial) -> Any:
        """The value of a hyperparameter first registered while `trial` runs (define-by-run)."""
        return hp.from_unit(self.rng(trial).random())

    def should_stop(self, trial: Trial, step: int) -> bool:
        """Whether a running trial that just reported `step` should stop early."""
        return False

    # ------------------------------------------------------------------------------------
    # Helpers for subclasses
    # ------------------------------------------------------------------------------------
    def rng(self, trial: Trial) -> np.random.Generator:
        """The trial's own random stream: it depends only on the seed and the trial number,
        so the same seed gives the same trials whatever the order of processes."""
        rng = getattr(trial, "_rng", None)
        if rng is None:
            rng = np.random.default_rng([self._base_seed, trial.number or 0])
            trial._rng = rng  # type: ignore[attr-defined]
        return rng

    def random_values(self, trial: Trial, unit: np.ndarray | None = None) -> dict[str, Any]:
        """Values drawn at random (or from `unit`, a point of the cube, one coordinate per
        hyperparameter in space order) for the active hyperparameters."""
        values: dict[str, Any] = {}
        rng = self.rng(trial)
        space = self.hyperparameters.space
        for index, hp in enumerate(space):
            if not all(c.is_active(values) for c in hp.conditions):
                continue
            if isinstance(hp, Fixed):
                values[hp.name] = hp.value
            else:
                u = rng.random() if unit is None else unit[index]
                values[hp.name] = hp.from_unit(u)
        return values

    def design_point(self, trial: Trial) -> np.ndarray | None:
        """The trial's point of the initial design, or None past the design."""
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
        return self._store().has_hash(self._store()._conn, value_hash(values))

    # ------------------------------------------------------------------------------------
    # ask / tell
    # ------------------------------------------------------------------------------------
    def ask(self, tuner_id: str | None = None, detached: bool = False) -> Trial | None:
        """The next trial to run, or None when the search is over.

        A trial whose process died while running it is handed out again first, then trials
        waiting for a retry, then enqueued configurations, then new values from
        `populate_space`.

        Parameters
        ----------
        tuner_id : str, optional
            Who runs the trial (kept with it).
        detached : bool
            The trial runs outside this process (a cluster job, another notebook) and is
            told later, by id, possibly from another process. Such a trial is never handed
            out again when this process exits; `release(trial_id)` gives it back.

        Examples
        --------
        >>> import tunelab as kt
        >>> oracle = kt.oracles.RandomSearchOracle(objective="loss", max_trials=2)
        >>> oracle.hyperparameters.Float("x", 0.0, 1.0)
        0.0
        >>> trial = oracle.ask(detached=True)
        >>> oracle.tell(trial.trial_id, 0.5)
        """
        self._check_failures()
        store = self._store()
        now = time.time()
        with store.transaction() as conn:
            claim = {
                "status": TrialStatus.RUNNING,
                # No owner: nobody's death means the trial was abandoned.
                "owner_host": None if detached else _HOST,
                "owner_pid": None if detached else os.getpid(),
                "tuner_id": tuner_id,
                "started_at": now,
            }
            # A trial run again starts from scratch: what its interrupted or failed run
            # reported must not be averaged into the new run's metrics.
            rerun = {**claim, "metrics": "{}", "score": None, "best_step": None}
            for row in store.select_trials("status='RUNNING'", conn=conn):
                if _process_is_dead(row["owner_host"], row["owner_pid"]):
                    store.update_trial(conn, row["trial_id"], rerun)
                    return self._hand_out(self._trial_from_row({**row, **rerun}))
            rows = store.select_trials("status='IDLE'", limit=1, conn=conn)
            if rows:
                store.update_trial(conn, rows[0]["trial_id"], rerun)
                return self._hand_out(self._trial_from_row({**rows[0], **rerun}))
            number = store.next_number(conn)
            if self._exhausted or (self.max_trials is not None and number >= self.max_trials):
                return None
            trial = Trial(HyperParameters(), trial_id=self._format_id(number))
            trial.number = number
            values = self._next_values(conn, trial)
            if values is None:
                self._exhausted = True
                print(
                    f"The search space is exhausted after {number} trials: every "
                    "configuration has been tried. The search stops here."
                )
                return None
            trial.hyperparameters = self._trial_hyperparameters(values, trial)
            active = trial.hyperparameters.active_values()
            store.insert_trial(
                conn,
                {
                    "number": number,
                    "trial_id": trial.trial_id,
                    "hp_values": dumps(active),
                    "value_hash": value_hash(active),
                    "created_at": now,
                    **claim,
                },
            )
            trial.started_at = now
            return self._hand_out(trial)

    def _hand_out(self, trial: Trial) -> Trial:
        trial._oracle = self
        trial.status = TrialStatus.RUNNING
        self._running[trial.trial_id] = trial  # type: ignore[index]
        return trial

    def _next_values(self, conn: Any, trial: Trial) -> dict[str, Any] | None:
        store = self._store()
        while True:
            queued = store.pop_queue(conn)
            if queued is None:
                break
            completed = self._complete(queued, trial)
            if not store.has_hash(conn, value_hash(completed)):
                return completed
        for _ in range(100):
            proposed = self.populate_space(trial)
            if isinstance(proposed, dict) and "status" in proposed:  # KerasTuner-style result
                if proposed["status"] != TrialStatus.RUNNING:
                    return None
                proposed = proposed.get("values") or {}
            if proposed is None:
                return None
            values = self._complete(proposed, trial)
            # With nothing known of the space yet (define-by-run), there is nothing to compare.
            if not values or not store.has_hash(conn, value_hash(values)):
                return values
        return None

    def _complete(self, values: dict[str, Any], trial: Trial) -> dict[str, Any]:
        """Fill in the active hyperparameters that `values` leaves out; keep only active ones."""
        out: dict[str, Any] = {}
        for hp in iter_active(self.hyperparameters.space, out):
            if hp.name in values:
                out[hp.name] = hp.validate(values[hp.name])
            elif isinstance(hp, Fixed):
                out[hp.name] = hp.value
            else:
                out[hp.name] = self.sample_new(hp, trial)
        # Names not (yet) in the space stay: the hypermodel registers them (define-by-run).
        out.update({k: v for k, v in values.items() if k not in self.hyperparameters._space})
        return out

    def _trial_hyperparameters(self, values: dict[str, Any], trial: Trial) -> HyperParameters:
        hp = self.hyperparameters.copy()
        hp.values = dict(values)
        hp._sampler = lambda definition: self.sample_new(definition, trial)
        hp._tune_new_entries = self.tune_new_entries
        hp._allow_new_entries = self.allow_new_entries
        return hp

    def _format_id(self, number: int) -> str:
        width = len(str(self.max_trials - 1)) if self.max_trials and self.max_trials > 1 else 1
        return f"{number:0{width}d}"

    def create_trial(self, tuner_id: str | None = None) -> Trial:
        """KerasTuner's name for `ask`: a finished search gives a trial with status STOPPED."""
        trial = self.ask(tuner_id)
        if trial is None:
            return Trial(self.hyperparameters.copy(), status=TrialStatus.STOPPED)
        return trial

    def update_trial(self, trial: Trial | str, metrics: Any, step: int = 0) -> str:
        """Record intermediate metrics of a running trial at `step`; returns its status
        (STOPPED when the oracle wants it to stop early)."""
        trial = self._resolve(trial)
        tracker = MetricsTracker.from_config(trial.metrics.get_config())
        for name, value in metric_dicts(self.objective, metrics)[0].items():
            tracker.update(name, value, step)
        with self._store().transaction() as conn:
            changed = self._store().update_trial(
                conn,
                trial.trial_id,
                {"metrics": dumps(tracker.get_config())},  # type: ignore[arg-type]
                expect_status=(TrialStatus.RUNNING,),
            )
        if not changed:
            raise ValueError(f"trial {trial.trial_id!r} is not running; cannot update it")
        trial.metrics = tracker
        if trial.status == TrialStatus.RUNNING and self.should_stop(trial, step):
            trial.status = TrialStatus.STOPPED
        return trial.status

    def tell(
        self,
        trial: Trial | str,
        result: Any = None,
        *,
        status: str | None = None,
        error: BaseException | str | None = None,
    ) -> Trial:
        """Finish a trial with its result.

        Parameters
        ----------
        trial : Trial or str
            The trial, or its id (it may have been asked in another process).
        result : number, dict, list of dicts, or None
            The objective's value, a dict of metrics, or one dict per execution (averaged).
            None: use what was reported with `update_trial` / `trial.report`.
        status : str, optional
            "FAILED", "INVALID", "STOPPED" or "COMPLETED"; default from the result.
        error : exception or str, optional
            For a failed trial: the error (its traceback is kept).

        Telling a finished trial, an unknown id or a malformed result raises and changes
        nothing.
        """
        trial = self._resolve(trial)
        if status is not None and status not in TrialStatus.FINISHED:
            raise ValueError(f"status={status!r}; expected one of {TrialStatus.FINISHED}")
        if error is not None and status is None:
            status = TrialStatus.FAILED
        tracker = MetricsTracker.from_config(trial.metrics.get_config())
        executions = metric_dicts(self.objective, result)
        if status != TrialStatus.FAILED and executions:
            # A final result after intermediate reports goes one step after the last one.
            steps = [o.step for h in tracker.metrics.values() for o in h.get_history()]
            step = max(steps) + 1 if steps else 0
            for execution in executions:
                for name, value in execution.items():
                    tracker.update(name, value, step)
        message = format_error(error)
        score, best_step = None, None
        if status in (TrialStatus.FAILED, TrialStatus.INVALID):
            final = status
        else:
            if not self.objective.has_value(latest_values(tracker)):
                raise ValueError(
                    f"trial {trial.trial_id!r}: the result {result!r} does not contain the "
                    f"objective {self.objective.names}; report it (or pass objective= to match)"
                )
            score, best_step = objective_score(self.objective, tracker)
            final = status or (
                TrialStatus.STOPPED
                if trial.status == TrialStatus.STOPPED
                else TrialStatus.COMPLETED
            )
            if score is None or not math.isfinite(score):
                message = message or f"objective value {score} is not finite"
                final, score = TrialStatus.INVALID, None
        retry = final == TrialStatus.FAILED and trial.retries < self.max_retries_per_trial
        now = time.time()
        active = trial.hyperparameters.active_values()  # with values registered during the run
        fields: dict[str, Any] = {
            "hp_values": dumps(active),
            # Untuned entries (tune_new_entries=False) stay at their default: they are not
            # part of what makes two configurations the same.
            "value_hash": value_hash(
                {k: v for k, v in active.items() if k not in trial.hyperparameters._untuned}
            ),
            "status": TrialStatus.IDLE if retry else final,
            "metrics": dumps(tracker.get_config()),
            "score": score,
            "best_step": best_step,
            "message": message,
            "ended_at": now,
            "retries": trial.retries + (1 if retry else 0),
        }
        store = self._store()
        with store.transaction() as conn:
            if not store.update_trial(
                conn,
                trial.trial_id,
                fields,  # type: ignore[arg-type]
                expect_status=(TrialStatus.RUNNING, TrialStatus.IDLE),
            ):
                raise ValueError(
                    f"trial {trial.trial_id!r} is already finished; telling it "
                    "again changes nothing"
                )
            self._merge_space(trial, conn)
        trial.metrics, trial.score, trial.best_step = tracker, score, best_step
        trial.status, trial.message, trial.ended_at = fields["status"], message, now
        trial.retries = fields["retries"]
        self._running.pop(trial.trial_id, None)  # type: ignore[arg-type]
        self._count_failure(trial, final, retry)
        return trial

    def end_trial(self, trial: Trial, status: str | None = None) -> None:
        """KerasTuner's way to finish a trial whose metrics were sent with `update_trial`."""
        status = status or trial.status
        if status in (TrialStatus.RUNNING, TrialStatus.COMPLETED):
            status = None  # type: ignore[assignment]
        self.tell(trial, status=status, error=trial.message if status == "FAILED" else None)

    def release(self, trial: Trial | str) -> None:
        """Put a running trial (or its id) back to be run again: after Ctrl-C, or for a
        detached trial that will never be told."""
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        if not isinstance(trial_id, str):
            raise TypeError(f"trial={trial!r}: expected a Trial or a trial id string")
        with self._store().transaction() as conn:
            self._store().update_trial(
                conn,
                trial_id,
                {"status": TrialStatus.IDLE},  # type: ignore[arg-type]
                expect_status=(TrialStatus.RUNNING,),
            )
        self._running.pop(trial_id, None)

    def _count_failure(self, trial: Trial, final: str, retry: bool) -> None:
        if final == TrialStatus.FAILED and not retry:
            if self._consecutive_failures == 0:
                self._first_failure = f"trial {trial.trial_id}:\n{trial.message}"
                self._failed_in_row = []
            self._failed_in_row.append(str(trial.trial_id))
            self._consecutive_failures += 1
        elif final in (TrialStatus.COMPLETED, TrialStatus.STOPPED):
            self._consecutive_failures = 0

    def _check_failures(self) -> None:
        limit = self.max_consecutive_failed_trials
        if limit is not None and self._consecutive_failures >= limit:
            raise TooManyFailedTrialsError(
                f"{self._consecutive_failures} trials failed in a row "
                f"(max_consecutive_failed_trials={limit}); the search stops. The first of them "
                f"was {self._first_failure}\nThe failed trials: {self._failed_in_row}; read "
                "each one's message and traceback with tuner.oracle.get_trial(trial_id).message, "
                f"e.g. tuner.oracle.get_trial({self._failed_in_row[-1]!r}).message "
                "(tuner.results_summary() counts them)."
            )

    def _merge_space(self, trial: Trial, conn: Any) -> None:
        hp = trial.hyperparameters
        changed = False
        changes = list(hp._changes)
        for definition in hp.space:
            name = definition.name
            if name in hp._untuned:
                continue
            current = self.hyperparameters._space.get(name)
            if current is None or (
                current != definition and self.hyperparameters._origin.get(name) == _STORED
            ):
                self.hyperparameters._space[name] = definition
                self.hyperparameters._origin[name] = hp._origin.get(name, "code")
                changed = True
        if changes:
            self._report_changes(changes)
        if changed:
            self._save_space(conn)

    # ------------------------------------------------------------------------------------
    # Reading trials
    # ------------------------------------------------------------------------------------
    def _trial_from_row(self, row: dict[str, Any]) -> Trial:
        hp = self.hyperparameters.copy()
        try:
            hp.values = dict(loads(row["hp_values"]))
            metrics = MetricsTracker.from_config(loads(row["metrics"]))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            # The store holds only JSON this library wrote: anything else is damage.
            raise StoreError(
                f"{self._store().path} is damaged: trial {row['trial_id']!r} cannot be read "
                f"({type(error).__name__}: {error})"
            ) from error
        trial = Trial(hp, trial_id=row["trial_id"], status=row["status"], message=row["message"])
        trial.number = row["number"]
        trial.metrics = metrics
        trial.score, trial.best_step, trial.retries = row["score"], row["best_step"], row["retries"]
        trial.started_at, trial.ended_at = row["started_at"], row["ended_at"]
        if row["status"] in (TrialStatus.RUNNING, TrialStatus.IDLE):
            hp._sampler = lambda definition: self.sample_new(definition, trial)
            hp._tune_new_entries = self.tune_new_entries
            hp._allow_new_entries = self.allow_new_entries
        return trial

    def _resolve(self, trial: Trial | str) -> Trial:
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        if not isinstance(trial_id, str):
            raise TypeError(f"trial={trial!r}: expected a Trial or a trial id string")
        if trial_id in self._running:
            return self._running[trial_id]
        row = self._store().get_trial(trial_id)
        if row is None:
            raise KeyError(f"unknown trial id {trial_id!r} in this project")
        found = self._trial_from_row(row)
        if isinstance(trial, Trial):  # keep what the caller's object learned (new entries)
            found.hyperparameters = trial.hyperparameters
            found.metrics = trial.metrics
        found._oracle = self
        return found

    def get_trial(self, trial_id: str) -> Trial:
        """The trial with this id, as stored."""
        row = self._store().get_trial(trial_id)
        if row is None:
            raise KeyError(f"unknown trial id {trial_id!r} in this project")
        return self._trial_from_row(row)

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the project, by id, in order."""
        return {r["trial_id"]: self._trial_from_row(r) for r in self._store().select_trials()}

    @property
    def ongoing_trials(self) -> dict[str, Trial]:
        return dict(self._running)

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best completed trials, best first (INVALID and FAILED trials never count)."""
        num_trials = _check_int("num_trials", num_trials, 1)
        order = "score DESC" if self.objective.direction == "max" else "score ASC"
        rows = self._store().select_trials(
            "status='COMPLETED' AND score IS NOT NULL", order=f"{order}, number", limit=num_trials
        )
        return [self._trial_from_row(r) for r in rows]

    def get_space(self) -> HyperParameters:
        return self.hyperparameters.copy()

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add definitions found in `hyperparameters` to the search space."""
        for hp in hyperparameters.space:
            if hp.name not in self.hyperparameters._space:
                self.hyperparameters._register(hp)
        self.hyperparameters.values = {}
        with self._store().transaction() as conn:
            self._save_space(conn)

    def enqueue_trial(self, values: dict[str, Any], skip_if_exists: bool = True) -> bool:
        """Queue a configuration to try before new suggestions.

        Values are checked against the space (a clear ValueError otherwise); names the space
        does not know yet are kept for the hypermodel to register. Left-out hyperparameters
        are chosen by the oracle. Returns False when the same values are already queued or
        tried (and `skip_if_exists`).
        """
        if not isinstance(values, dict):
            raise TypeError(f"enqueue_trial: values={values!r}; expected a dict name -> value")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            hp = self.hyperparameters._space.get(name)
            if hp is not None:
                checked[name] = hp.validate(value)
            elif not self.allow_new_entries:
                raise ValueError(
                    f"enqueue_trial: {name!r} is not a hyperparameter of this search space "
                    f"({self.hyperparameters.space.names()})"
                )
            elif (
                not isinstance(value, (int, float, str, bool))
                or isinstance(value, float)
                and not math.isfinite(value)
            ):
                raise ValueError(
                    f"enqueue_trial: value {value!r} for {name!r} is not a "
                    "finite number, string or bool"
                )
            else:
                checked[name] = value
        store = self._store()
        digest = value_hash(checked)
        if skip_if_exists:
            return store.enqueue(checked, digest)
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO queue (hp_values, value_hash) VALUES (?, ?)", (dumps(checked), digest)
            )
        return True

    def enqueue_trials(self, configurations: Iterable[dict[str, Any]] | str | os.PathLike) -> int:
        """Queue several configurations (a list of dicts or a CSV file); returns how many."""
        return sum(self.enqueue_trial(v) for v in load_configurations(configurations))

    # KerasTuner compatibility ----------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "objective": self.objective.get_config(),
            "max_trials": self.max_trials,
            "seed": self.seed,
            "hyperparameters": self.hyperparameters.get_config(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.objective = Objective.from_config(state["objective"])
        self.max_trials = state["max_trials"]
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
