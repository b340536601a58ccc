"""The study: the books of one search, kept in its storage.

The study hands out trials (`ask`) and records their ends (`tell`): claims, retries, the
consecutive-failure limit, de-duplication of configurations, the queue of enqueued trials,
and resuming a project (its stored space and objective). Which values a new trial tries is
the oracle's business (`Oracle.populate_space`); whether a running trial stops is the
pruner's. Every read and write of trials goes through the `Storage` interface.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Protocol

from tunelab.errors import ObjectiveNotReportedError, TooManyFailedTrialsError
from tunelab.hyperparameters import Fixed, HyperParameter, HyperParameters
from tunelab.objective import Objective
from tunelab.outcomes import format_error, latest_values, metric_dicts, objective_score
from tunelab.ownership import (
    claim_for,
    hold,
    is_mine,
    owner_is_gone,
    refuse_overwrite_while_searched,
    wait_for_held_trials,
)
from tunelab.proposals import WAIT, TrialId, read_proposal
from tunelab.storage import STORE_FILENAME, Storage, Store, StoredTrial
from tunelab.storage.url import open_url
from tunelab.stored_settings import StoredSettings
from tunelab.trial import MetricsTracker, Trial, TrialStatus

__all__ = ["WAIT", "Proposer", "Study", "TrialId", "iter_active", "value_hash"]


# The end of the message of a trial INVALID because its objective was NaN or infinite: such
# a trial counts toward `max_consecutive_failed_trials` (KerasTuner retries it, then fails
# it); one the user declared invalid (`InvalidTrialError`, an infeasible configuration)
# does not.
_NOT_FINITE = " is not finite"


def _failed(status: str, message: str | None) -> bool:
    """Whether a finished trial counts toward the consecutive-failure limit."""
    if status == TrialStatus.FAILED:
        return True
    text = message or ""
    return (
        status == TrialStatus.INVALID
        and text.startswith("objective value ")
        and (text.endswith(_NOT_FINITE))
    )


def value_hash(values: dict[str, Any]) -> str:
    """A stable digest of a configuration (its active values)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def iter_active(space: list[HyperParameter], values: dict[str, Any]) -> Any:
    """The hyperparameters of `space` that are active given `values`, in order.

    Parents are registered before their children, so one pass in order suffices; `values`
    is read as it is filled in by the caller.
    """
    for hp in space:
        if all(c.is_active(values) for c in hp.conditions):
            yield hp


class Proposer(Protocol):
    """What the study needs of an oracle (`tunelab.oracles.base.Oracle` gives all of it):
    the search's settings, and the proposals."""

    objective: Objective
    hyperparameters: HyperParameters
    max_trials: int | None
    seed: int | None
    max_retries_per_trial: int
    max_consecutive_failed_trials: int | None
    tune_new_entries: bool
    allow_new_entries: bool
    places_enqueued_trials: bool
    pruner: Any
    _initial_trials: list[dict[str, Any]] | None

    def populate_space(self, trial_id: TrialId) -> Any:
        """Values for a new trial (a dict, or KerasTuner's ``{"status", "values"}``), None
        (exhausted) or `WAIT`."""

    def sample_new(self, hp: HyperParameter, trial: Trial) -> Any:
        """The value of a hyperparameter registered while `trial` runs."""

    def should_stop(self, trial: Trial, step: int) -> bool:
        """Whether a running trial stops early after reporting `step`."""

    def on_resume(self, study: Study) -> None:
        """The store was opened: check or save the oracle's own settings."""

    def enqueue_trial(self, values: dict[str, Any], skip_if_exists: bool = True) -> bool:
        """Queue a configuration."""

    def update_trial(self, trial_id: Trial | str, metrics: Any, step: int = 0) -> str:
        """Take a running trial's report (`trial.report` calls it)."""


class Study:
    """The books of a search over `storage`, proposals from `oracle`.

    Parameters
    ----------
    oracle : Proposer
        Proposes values (`populate_space`, `sample_new`) and holds the search's settings
        (objective, space, max_trials, retries, failure limit).
    storage : Storage
        Where trials live.
    """

    def __init__(self, oracle: Proposer, storage: Storage) -> None:
        self.oracle = oracle
        self.storage = storage
        self.running: dict[str, Trial] = {}
        # Who asked each running trial (a tuner id), for KerasTuner's `ongoing_trials`.
        self.askers: dict[str, str | None] = {}
        # The trial `populate_space` is filling in (KerasTuner's helpers read it).
        self.populating: Trial | None = None
        self.exhausted = False
        self.waiting = False
        self._opened_at = time.time()
        self._announced: set[str] = set()
        self.settings = StoredSettings(oracle, storage)

    @classmethod
    def open(
        cls,
        oracle: Proposer,
        project_dir: Path | None,
        overwrite: bool = False,
        storage_url: str | None = None,
    ) -> Study:
        """The study of the project in `project_dir` (None: in memory), not yet resumed.
        With `storage_url` the trials are in that database, in the project named by
        `project_dir`'s last part (see `tunelab.storage.url`)."""
        if storage_url is not None:
            name = "untitled_project" if project_dir is None else project_dir.name
            storage = open_url(storage_url, name)
            if overwrite:
                try:
                    refuse_overwrite_while_searched(Path(name), storage)
                except BaseException:
                    storage.close()
                    raise
                storage.clear()  # type: ignore[attr-defined]
            return cls(oracle, storage)
        path = ":memory:" if project_dir is None else project_dir / STORE_FILENAME
        if overwrite and project_dir is not None and path.is_file():  # type: ignore[union-attr]
            refuse_overwrite_while_searched(project_dir)
        return cls(oracle, Store(path, overwrite=overwrite))

    # ------------------------------------------------------------------------------------
    # Resuming
    # ------------------------------------------------------------------------------------
    def resume(self) -> None:
        """Merge the stored space into the oracle's, rescore if the objective changed, save
        the search's settings, and enqueue the oracle's initial trials once."""
        self.settings.load()
        self.oracle.on_resume(self)
        initial = self.oracle._initial_trials
        if initial and not self.storage.get_meta("initial_trials_enqueued"):
            for values in initial:
                self.oracle.enqueue_trial(values)
            self.storage.set_meta("initial_trials_enqueued", True)

    def save_space(self) -> None:
        """Store the search space as it is now."""
        self.settings.save_space()

    # ------------------------------------------------------------------------------------
    # ask
    # ------------------------------------------------------------------------------------
    def ask(self, tuner_id: str | None = None, detached: bool = False) -> Trial | None:
        """See `Oracle.ask`."""
        self.check_failures()
        self.waiting = False
        storage, oracle = self.storage, self.oracle
        now = time.time()
        claim = claim_for(tuner_id, detached, now)
        if not detached:
            hold(storage, self)  # the lease exists before any trial names it
        with storage.transaction():
            again = storage.claim(claim, owner_is_gone)
            if again is not None:
                return self._hand_out(self.to_trial(again), tuner_id)
            number = storage.next_number()
            if self.exhausted or (oracle.max_trials is not None and number >= oracle.max_trials):
                # Trials held in another node may still come back to run here.
                self.waiting = wait_for_held_trials(storage, now, self._announced)
                return None
            trial = Trial(HyperParameters(), trial_id=self._format_id(number))
            trial.number = number
            values = self._next_values(trial)
            if values is WAIT:
                self.waiting = True
                return None
            if values is None:
                self.exhausted = True
                print(
                    f"The search space is exhausted after {number} trials: every "
                    "configuration has been tried. The search stops here."
                )
                return None
            trial.hyperparameters = self._trial_hyperparameters(values, trial, detached)
            active = trial.hyperparameters.active_values()
            storage.create_trial(number, trial.trial_id, active, value_hash(active), claim)  # type: ignore[arg-type]
            trial.started_at = now
            return self._hand_out(trial, tuner_id)

    def _hand_out(self, trial: Trial, tuner_id: str | None) -> Trial:
        trial._oracle = self.oracle
        trial.status = TrialStatus.RUNNING
        self.running[trial.trial_id] = trial  # type: ignore[index]
        self.askers[trial.trial_id] = tuner_id  # type: ignore[index]
        return trial

    def _next_values(self, trial: Trial) -> Any:
        """Enqueued values first (unless the oracle takes them itself), then proposals;
        a proposal that repeats a tried configuration is asked for again, up to the
        oracle's `_max_collisions` times (KerasTuner's name), and then the space counts as
        exhausted."""
        storage, oracle = self.storage, self.oracle
        if not oracle.places_enqueued_trials:
            while (queued := storage.pop_queue()) is not None:
                completed = self.complete(queued, trial)
                if not storage.has_values(value_hash(completed)):
                    return completed
        for _ in range(1 + getattr(oracle, "_max_collisions", 20)):
            self.populating = trial
            try:
                proposed = read_proposal(oracle, oracle.populate_space(TrialId(trial)))
            finally:
                self.populating = None
            if proposed is WAIT or proposed is None:
                return proposed
            values = self.complete(proposed, trial)
            if oracle.places_enqueued_trials:
                return values  # it checked for repeats itself (Hyperband repeats on purpose)
            # With nothing known of the space yet (define-by-run), there is nothing to compare.
            if not values or not storage.has_values(value_hash(values)):
                return values
        return None

    def complete(self, values: dict[str, Any], trial: Trial) -> dict[str, Any]:
        """Fill in the active hyperparameters that `values` leaves out; keep only active ones."""
        space = self.oracle.hyperparameters
        out: dict[str, Any] = {}
        for hp in iter_active(space.space, out):
            if hp.name in values:
                out[hp.name] = hp.validate(values[hp.name])
            elif isinstance(hp, Fixed):
                out[hp.name] = hp.value
            else:
                out[hp.name] = self.oracle.sample_new(hp, trial)
        # Names not (yet) in the space stay: the hypermodel registers them (define-by-run).
        out.update({k: v for k, v in values.items() if k not in space._space})
        return out

    def _trial_hyperparameters(
        self, values: dict[str, Any], trial: Trial, detached: bool = False
    ) -> HyperParameters:
        oracle = self.oracle
        hp = oracle.hyperparameters.copy()
        hp.values = dict(values)
        hp._sampler = self._sampler(trial, detached)
        hp._tune_new_entries = oracle.tune_new_entries
        hp._allow_new_entries = oracle.allow_new_entries
        return hp

    def _sampler(self, trial: Trial, detached: bool) -> Any:
        """How `trial` gets a value for a hyperparameter its code defines while it runs: the
        oracle suggests it. A detached trial's value is also stored at once (as Optuna
        saves each suggestion), since another process may tell its result; the owner of
        any other trial tells it itself, with every value (no write per suggestion)."""
        storage, oracle = self.storage, self.oracle
        if not detached:
            return lambda definition: oracle.sample_new(definition, trial)

        def sample(definition: HyperParameter) -> Any:
            value = oracle.sample_new(definition, trial)
            storage.save_values(trial.trial_id, {definition.name: value})  # type: ignore[arg-type]
            return value

        return sample

    def _format_id(self, number: int) -> str:
        max_trials = self.oracle.max_trials
        width = len(str(max_trials - 1)) if max_trials and max_trials > 1 else 1
        return f"{number:0{width}d}"

    def enqueue(self, values: dict[str, Any], skip_if_exists: bool = True) -> bool:
        """See `Oracle.enqueue_trial`."""
        space = self.oracle.hyperparameters
        if not isinstance(values, dict):
            raise TypeError(f"enqueue_trial: values={values!r}; expected a dict name -> value")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name in space._space:
                checked[name] = space._validate(name, value)  # any definition of the name
            elif not self.oracle.allow_new_entries:
                raise ValueError(
                    f"enqueue_trial: {name!r} is not a hyperparameter of this search space "
                    f"({space.space.names()})"
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
        return self.storage.enqueue(checked, value_hash(checked), skip_if_exists)

    # ------------------------------------------------------------------------------------
    # Reports, tell, release
    # ------------------------------------------------------------------------------------
    def report(self, trial: Trial | str, metrics: Any, step: int = 0) -> str:
        """See `Oracle.update_trial`."""
        oracle = self.oracle
        trial = self.resolve(trial)
        tracker = MetricsTracker.from_config(trial.metrics.get_config())
        for name, value in metric_dicts(oracle.objective, metrics)[0].items():
            tracker.update(name, value, step)
        if not self.storage.report(trial.trial_id, tracker):  # type: ignore[arg-type]
            raise ValueError(f"trial {trial.trial_id!r} is not running; cannot update it")
        trial.metrics = tracker
        if trial.status == TrialStatus.RUNNING and (
            oracle.should_stop(trial, step)
            or (oracle.pruner is not None and oracle.pruner.should_prune(trial, step, oracle))
        ):
            trial.status = TrialStatus.STOPPED
        return trial.status

    def tell(
        self,
        trial: Trial | str,
        result: Any = None,
        status: str | None = None,
        error: BaseException | str | None = None,
        retry: bool = True,
    ) -> Trial:
        """See `Oracle.tell`; `retry=False`: a failed trial is not run again."""
        oracle = self.oracle
        trial = self.resolve(trial)
        if status is not None and status not in TrialStatus.FINISHED:
            raise ValueError(f"status={status!r}; expected one of {TrialStatus.FINISHED}")
        if error is not None and status is None:
            status = TrialStatus.FAILED
        tracker = MetricsTracker.from_config(trial.metrics.get_config())
        executions = metric_dicts(oracle.objective, result)
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
            reported = latest_values(tracker)
            if not oracle.objective.has_value(reported):
                raise ObjectiveNotReportedError(str(trial.trial_id), oracle.objective, reported)
            score, best_step = objective_score(oracle.objective, tracker)
            final = status or (
                TrialStatus.STOPPED
                if trial.status == TrialStatus.STOPPED
                else TrialStatus.COMPLETED
            )
            if score is None or not math.isfinite(score):
                message = message or f"objective value {score}{_NOT_FINITE}"
                final, score = TrialStatus.INVALID, None
        retry = (
            retry and final == TrialStatus.FAILED and trial.retries < oracle.max_retries_per_trial
        )
        now = time.time()
        hp = trial.hyperparameters
        active = hp.active_values()  # with values registered during the run
        new_status = TrialStatus.IDLE if retry else final
        retries = trial.retries + (1 if retry else 0)
        with self.storage.transaction():
            if not self.storage.finish(
                trial.trial_id,  # type: ignore[arg-type]
                status=new_status,
                values=active,
                # Untuned entries (tune_new_entries=False) stay at their default: they are
                # not part of what makes two configurations the same.
                value_hash=value_hash({k: v for k, v in active.items() if k not in hp._untuned}),
                metrics=tracker,
                score=score,
                best_step=best_step,
                message=message,
                retries=retries,
                ended_at=now,
            ):
                return self._finished_elsewhere(trial)
            self.settings.merge_trial_space(trial.hyperparameters)
        trial.metrics, trial.score, trial.best_step = tracker, score, best_step
        trial.status, trial.message, trial.ended_at = new_status, message, now
        trial.retries = retries
        self.running.pop(trial.trial_id, None)  # type: ignore[arg-type]
        self.askers.pop(trial.trial_id, None)  # type: ignore[arg-type]
        return trial

    def _finished_elsewhere(self, trial: Trial) -> Trial:
        """`trial` is already finished in the store. Told twice: an error. Handed out here
        and not yet told: another process finished it meanwhile (this one stopped renewing
        its lease long enough, e.g. frozen, for the trial to run again there). The first
        result stands; this run's is dropped and the search goes on."""
        trial_id: str = trial.trial_id  # type: ignore[assignment]
        stored = self.storage.get_trial(trial_id)
        token = None if stored is None else stored.owner_token
        if trial_id not in self.running or token is None or is_mine(stored):  # type: ignore[arg-type]
            raise ValueError(
                f"trial {trial_id!r} is already finished; telling it again changes nothing"
            )
        self.running.pop(trial_id)
        self.askers.pop(trial_id, None)
        print(
            f"Trial {trial_id} was finished by another process while this one ran it (this "
            "process's lease had expired); its result there is kept and this one dropped."
        )
        done = self.to_trial(stored)  # type: ignore[arg-type]
        trial.status, trial.score, trial.best_step = done.status, done.score, done.best_step
        trial.metrics, trial.message, trial.ended_at = done.metrics, done.message, done.ended_at
        return trial

    def release(self, trial: Trial | str) -> None:
        """See `Oracle.release`."""
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        if not isinstance(trial_id, str):
            raise TypeError(f"trial={trial!r}: expected a Trial or a trial id string")
        self.storage.release(trial_id)
        self.running.pop(trial_id, None)
        self.askers.pop(trial_id, None)

    def check_failures(self) -> None:
        """Raise `TooManyFailedTrialsError` once the failure limit is reached.

        The trials that failed in a row are counted in the store, in the order they ended,
        whichever process ran them (as KerasTuner counts its end order): four processes
        stop together at the limit, and a resumed project continues the count. A project
        stopped by the limit runs one more trial when it is resumed (the fix may have
        worked): the limit is enforced only once a failure has happened in this run.
        """
        limit = self.oracle.max_consecutive_failed_trials
        if limit is None:
            return
        streak = []
        for trial_id, status, message, ended_at in self.storage.last_ended(limit):
            if not _failed(status, message):
                break
            streak.append((trial_id, message, ended_at))
        if len(streak) < limit or streak[0][2] < self._opened_at:
            return
        (first, message, _), ids = streak[-1], [t[0] for t in reversed(streak)]
        raise TooManyFailedTrialsError(
            f"{len(streak)} trials failed in a row "
            f"(max_consecutive_failed_trials={limit}); the search stops. The first of them "
            f"was trial {first}:\n{message}\nThe failed trials: {ids}; read "
            "each one's message and traceback with tuner.oracle.get_trial(trial_id).message, "
            f"e.g. tuner.oracle.get_trial({ids[-1]!r}).message "
            "(tuner.results_summary() counts them)."
        )

    # ------------------------------------------------------------------------------------
    # Reading trials
    # ------------------------------------------------------------------------------------
    def to_trial(self, stored: StoredTrial) -> Trial:
        """A stored trial over the search space; a running or waiting one can register new
        hyperparameters (define-by-run) through the oracle."""
        oracle = self.oracle
        trial = stored.to_trial(oracle.hyperparameters)
        if stored.status in (TrialStatus.RUNNING, TrialStatus.IDLE):
            hp = trial.hyperparameters
            hp._sampler = self._sampler(trial, stored.owner_pid is None)
            hp._tune_new_entries = oracle.tune_new_entries
            hp._allow_new_entries = oracle.allow_new_entries
        return trial

    def resolve(self, trial: Trial | str) -> Trial:
        """The live trial for `trial` (or its id), asked here or in another process."""
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        if not isinstance(trial_id, str):
            raise TypeError(f"trial={trial!r}: expected a Trial or a trial id string")
        if trial_id in self.running:
            return self.running[trial_id]
        found = self.get_trial(trial_id)
        if isinstance(trial, Trial):  # keep what the caller's object learned (new entries)
            found.hyperparameters = trial.hyperparameters
            found.metrics = trial.metrics
        found._oracle = self.oracle
        return found

    def get_trial(self, trial_id: str) -> Trial:
        stored = self.storage.get_trial(trial_id)
        if stored is None:
            raise KeyError(f"unknown trial id {trial_id!r} in this project")
        return self.to_trial(stored)

    def trials(self) -> dict[str, Trial]:
        return {t.trial_id: self.to_trial(t) for t in self.storage.get_trials()}

    def best_trials(self, num_trials: int) -> list[Trial]:
        direction = self.oracle.objective.direction
        return [self.to_trial(t) for t in self.storage.best_trials(num_trials, direction)]

    def finished_count(self) -> int:
        counts = self.storage.count_by_status()
        return sum(counts.get(s, 0) for s in TrialStatus.FINISHED)
