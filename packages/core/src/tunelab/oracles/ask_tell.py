"""What an oracle offers its users: ask and tell, reading trials, the queue, and
KerasTuner's names for them (`create_trial`, `update_trial`, `end_trial`, `synchronized`).
Every method hands over to the oracle's study (`tunelab.study.Study`), which keeps the
books; `tunelab.oracles.base.Oracle` adds the proposals."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from tunelab.checks import check_int
from tunelab.configurations import load_configurations
from tunelab.errors import FailedTrialError
from tunelab.hyperparameters import HyperParameters
from tunelab.objective import Objective
from tunelab.oracles.multi_objective import ParetoRanking, rank_trials
from tunelab.outcomes import format_error
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.study import Study

__all__ = ["AskTellMethods", "synchronized"]

_F = TypeVar("_F", bound=Callable[..., Any])

# One reentrant lock per oracle, kept outside it: an oracle is copied and pickled to worker
# processes, and a lock can be neither.
_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _lock_of(owner: Any) -> threading.RLock:
    with _LOCKS_GUARD:
        try:
            lock = _LOCKS.get(owner)
        except TypeError:  # not weakly referenceable (a plain value): a lock of its own
            return threading.RLock()
        if lock is None:
            lock = _LOCKS[owner] = threading.RLock()
        return lock


def synchronized(func: _F) -> _F:
    """Let one thread at a time run the decorated methods of an oracle (KerasTuner's
    `kt.synchronized`).

    Calls on the same oracle wait for each other, whichever decorated method they call;
    calls on different oracles do not. The lock is reentrant: an override decorated in a
    subclass may call a decorated method of its base. An `end_trial` decorated this way
    also takes KerasTuner's older form, ``end_trial(trial_id, status)``.

    Examples
    --------
    >>> import tunelab as kt
    >>> class CountingOracle(kt.oracles.RandomSearchOracle):
    ...     created = 0
    ...
    ...     @kt.synchronized
    ...     def create_trial(self, tuner_id):
    ...         self.created += 1
    ...         return super().create_trial(tuner_id)
    >>> oracle = CountingOracle(objective="loss", max_trials=2)
    >>> oracle.create_trial("tuner0").status
    'RUNNING'
    >>> oracle.created
    1
    """

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if func.__name__ == "end_trial":
            args, kwargs = _trial_form_of_end_trial(self, args, kwargs)
        with _lock_of(self):
            return func(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _trial_form_of_end_trial(
    oracle: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``end_trial(trial_id, status)`` (KerasTuner before 1.1) as ``end_trial(trial)``."""
    if args and isinstance(args[0], Trial):
        return args, kwargs
    kwargs = dict(kwargs)
    trial_id = args[0] if args else kwargs.pop("trial_id", None)
    if not isinstance(trial_id, str):
        return args, kwargs
    status = args[1] if len(args) > 1 else kwargs.pop("status", TrialStatus.COMPLETED)
    trial = oracle.study.resolve(trial_id)
    trial.status = status
    return (trial,), kwargs


# The KerasTuner hooks (`create_trial`, `end_trial`) that `ask` and `tell` are calling in
# this thread, by (oracle id, name): while one is, the base method does the work itself.
_HOOK_CALLS = threading.local()


@contextlib.contextmanager
def _calling_hook(oracle: Any, name: str, state: dict[str, Any]) -> Any:
    calls = _HOOK_CALLS.__dict__.setdefault("calls", {})
    calls[id(oracle), name] = state
    try:
        yield state
    finally:
        calls.pop((id(oracle), name), None)


def _hook_call(oracle: Any, name: str) -> dict[str, Any] | None:
    return getattr(_HOOK_CALLS, "calls", {}).get((id(oracle), name))


class AskTellMethods:
    """The public ask/tell methods of `Oracle` (see there)."""

    hyperparameters: HyperParameters
    objective: Objective
    max_trials: int | None
    seed: int | None
    _study: Study | None

    @property
    def study(self) -> Study:  # pragma: no cover - Oracle defines it
        raise NotImplementedError

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
        >>> oracle.tell(trial.trial_id, 0.5).status
        'COMPLETED'
        """
        if detached or not self._overrides("create_trial") or _hook_call(self, "create_trial"):
            return self.study.ask(tuner_id, detached)
        # A KerasTuner-style oracle that overrides create_trial: the search goes through it.
        with _calling_hook(self, "create_trial", {}):
            trial = self.create_trial(tuner_id)
        if trial.status == TrialStatus.RUNNING and trial.trial_id in self.study.running:
            return trial
        self.study.waiting = trial.status == TrialStatus.IDLE
        return None

    def _overrides(self, name: str) -> bool:
        """Whether this oracle's class overrides KerasTuner's method `name`."""
        return getattr(type(self), name) is not getattr(AskTellMethods, name)

    @property
    def waiting(self) -> bool:
        """True after an `ask` that gave None only because running trials must end first."""
        return self._study is not None and self._study.waiting

    @synchronized
    def create_trial(self, tuner_id: str | None = None) -> Trial:
        """KerasTuner's name for `ask`, for the tuner `tuner_id`.

        A tuner id that already runs a trial gets that trial again (KerasTuner's rule:
        one trial per tuner id at a time; `ongoing_trials` maps them). A finished search
        gives a trial with status STOPPED, one that must wait for running trials a trial
        with status IDLE; neither is recorded.
        """
        study = self.study
        if _hook_call(self, "create_trial") is None:  # (`ask` hands out many per tuner id)
            for trial_id, asker in study.askers.items():
                if asker == tuner_id and tuner_id is not None:
                    return study.running[trial_id]
        trial = study.ask(tuner_id)
        if trial is None:
            status = TrialStatus.IDLE if self.waiting else TrialStatus.STOPPED
            return Trial(
                self.hyperparameters.copy(),
                trial_id=study._format_id(study.storage.next_number()),
                status=status,
            )
        return trial

    @synchronized
    def update_trial(self, trial_id: Trial | str, metrics: Any, step: int = 0) -> str:
        """Record intermediate metrics of a running trial at `step`.

        Parameters
        ----------
        trial_id : str or Trial
            The running trial (KerasTuner passes ``trial.trial_id``).
        metrics : dict or number
            Metric name -> value (a number is the objective's value).
        step : int
            The step (epoch) the values belong to.

        Returns
        -------
        str
            The trial's status: "STOPPED" when the oracle (its pruner) wants it to stop
            early, else "RUNNING".
        """
        return self.study.report(trial_id, metrics, step)

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
        nothing. An oracle that overrides KerasTuner's `end_trial` gets the trial there,
        with ``trial.status`` and ``trial.message`` set as KerasTuner would.
        """
        if not self._overrides("end_trial") or _hook_call(self, "end_trial"):
            return self.study.tell(trial, result, status=status, error=error)
        live = self.study.resolve(trial)
        told = {"trial_id": live.trial_id, "result": result, "status": status, "error": error}
        live.status = _keras_tuner_status(live, status, error)
        if error is not None:
            live.message = format_error(error)
        with _calling_hook(self, "end_trial", told):
            self.end_trial(live)
        if "done" not in told:  # the override did not hand over to end_trial here
            self.study.tell(live, result, status=status, error=error)
        return live

    @synchronized
    def end_trial(
        self, trial: Trial | str | None = None, status: str | None = None, *, trial_id: Any = None
    ) -> None:
        """KerasTuner's way to finish a trial whose metrics were sent with `update_trial`.

        ``end_trial(trial)`` reads ``trial.status`` (KerasTuner 1.1 and later);
        ``end_trial(trial_id, status)`` is the older form. The status says how it went,
        as in KerasTuner: "COMPLETED" (or "RUNNING"): scored from its reports; "STOPPED":
        stopped early; "INVALID": it crashed, and runs again while `max_retries_per_trial`
        allows, then ends FAILED; "FAILED": it ends FAILED at once. ``trial.message`` is
        kept as the error of a failed trial.
        """
        if trial is None:
            trial = trial_id
        if isinstance(trial, str):
            status = status or TrialStatus.COMPLETED
            trial = self.study.resolve(trial)
        if not isinstance(trial, Trial):
            raise TypeError(f"trial={trial!r}: expected a Trial or a trial id string")
        told = _hook_call(self, "end_trial")
        if told is not None and "done" not in told and told["trial_id"] == trial.trial_id:
            told["done"] = True  # `tell` called the override: finish as `tell` was asked
            self.study.tell(trial, told["result"], status=told["status"], error=told["error"])
            return
        status = status or trial.status
        if status in (TrialStatus.INVALID, TrialStatus.FAILED):
            self.study.tell(
                trial,
                status=TrialStatus.FAILED,
                error=trial.message or f"the trial ended {status}",
                retry=status == TrialStatus.INVALID,
            )
            return
        if status in (TrialStatus.RUNNING, TrialStatus.COMPLETED):
            status = None
        self.study.tell(trial, status=status)

    def release(self, trial: Trial | str) -> None:
        """Put a running trial (or its id) back to be run again: after Ctrl-C, or for a
        detached trial that will never be told."""
        self.study.release(trial)

    # ------------------------------------------------------------------------------------
    # Reading trials
    # ------------------------------------------------------------------------------------
    def get_trial(self, trial_id: str) -> Trial:
        """The trial with this id, as stored."""
        return self.study.get_trial(trial_id)

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the project, by id, in order."""
        return self.study.trials()

    @property
    def ongoing_trials(self) -> dict[str | None, Trial]:
        """The running trials of this process, by the tuner id that asked them (KerasTuner's
        ``tuner_id -> Trial``; a tuner id running several trials at once maps to its
        latest)."""
        study = self.study
        return {study.askers.get(i): trial for i, trial in study.running.items()}

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best completed trials, best first (INVALID and FAILED trials never count).

        In a Pareto search (``pareto=True``) or one with constraints, trials are ranked by
        feasibility, then non-domination rank, then crowding distance (see
        `tunelab.pareto.rank_order`): the front comes first, its most spread-out trials
        before the others.
        """
        num_trials = check_int("num_trials", num_trials, 1)
        if not (getattr(self, "pareto", False) or getattr(self, "constraints", None)):
            return self.study.best_trials(num_trials)
        ranking = self.pareto_ranking()
        study = self.study
        return [study.to_trial(ranking.trials[i]) for i in ranking.order[:num_trials]]

    def pareto_ranking(self) -> ParetoRanking:
        """The completed trials with their objective vectors, constraint violations and
        ranks (see `tunelab.oracles.multi_objective.ParetoRanking`)."""
        return rank_trials(self.study.storage, self.objective, getattr(self, "constraints", {}))

    def get_pareto_front(self) -> list[Trial]:
        """The completed trials on the Pareto front of the objectives: feasible (within
        `constraints`) and dominated by no other feasible trial; the most spread-out first.

        Works for any search over an objective list, whether or not it was a Pareto search.

        Examples
        --------
        >>> import tunelab as kt
        >>> oracle = kt.oracles.RandomSearchOracle(
        ...     objective=[kt.Objective("error", "min"), kt.Objective("size", "min")],
        ...     pareto=True, max_trials=4)
        >>> for error, size in [(0.1, 9), (0.2, 5), (0.3, 6), (0.4, 1)]:
        ...     trial = oracle.ask()
        ...     _ = oracle.tell(trial, {"error": error, "size": size})
        >>> sorted(t.metrics.get_last_value("error") for t in oracle.get_pareto_front())
        [0.1, 0.2, 0.4]
        """
        study = self.study
        return [study.to_trial(t) for t in self.pareto_ranking().front()]

    def get_space(self) -> HyperParameters:
        """A copy of the search space, with KerasTuner's current values: the defaults of the
        active hyperparameters."""
        finder = self.__dict__.pop("_space_finder", None)
        if finder is not None:
            finder()  # a tuner's hypermodel not built yet (see BaseTuner._populate_initial_space)
        space = self.hyperparameters.copy()
        space.values = {}
        for definition in space.space:
            if space.is_active(definition):
                space.values[definition.name] = definition.default
        return space

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add definitions found in `hyperparameters` to the search space."""
        for hp in hyperparameters.space:
            if self.hyperparameters._find(hp) is None:
                self.hyperparameters._register(hp)
        self.hyperparameters.values = {}
        with self.study.storage.transaction():
            self.study.save_space()

    def enqueue_trial(self, values: dict[str, Any], skip_if_exists: bool = True) -> bool:
        """Queue a configuration to try before new suggestions.

        Values are checked against the space (a clear ValueError otherwise); names the space
        does not know yet are kept for the hypermodel to register. Left-out hyperparameters
        are chosen by the oracle. Returns False when the same values are already queued or
        tried (and `skip_if_exists`).
        """
        return self.study.enqueue(values, skip_if_exists)

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


def _keras_tuner_status(trial: Trial, status: str | None, error: Any) -> str:
    """How KerasTuner's tuner would have set ``trial.status`` before its `end_trial`: a
    crash is INVALID (its `end_trial` retries it, or makes it FAILED when no retry is
    left), a `FailedTrialError` FAILED."""
    if isinstance(error, FailedTrialError):
        return TrialStatus.FAILED
    if error is not None:
        return TrialStatus.INVALID
    if status is not None:
        return status
    return TrialStatus.STOPPED if trial.status == TrialStatus.STOPPED else TrialStatus.COMPLETED
