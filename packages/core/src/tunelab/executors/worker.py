"""What runs in a worker: one trial of a tuner, away from the oracle and the store.

The driver sends each worker a `WorkerJob` once (the tuner, with a `WorkerOracle` in place
of its oracle, and the arguments of `search`), then one small `TrialTask` per trial. The
worker runs `tuner.run_trial` and sends back a `TrialOutcome`: the result or the error, the
hyperparameters the trial registered while it ran (define-by-run), the metrics it reported,
and the store metadata it would have written. The driver alone writes to the store.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tunelab.errors import FailedTrialError, FatalError, InvalidTrialError, SearchSetupError
from tunelab.executors.snapshot import best_configs
from tunelab.hyperparameters import HyperParameter, HyperParameters
from tunelab.outcomes import format_error, metric_dicts, run_trial_result
from tunelab.timeout import time_limit
from tunelab.trial import MetricsTracker, Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = [
    "Reporter",
    "RunsTrials",
    "TrialOutcome",
    "TrialTask",
    "WorkerJob",
    "WorkerOracle",
    "answer_report",
    "dumps",
    "error_kind",
    "loads",
    "reply_status",
    "run_task",
]

# Sends one report (trial id, metrics, step) to the driver's oracle and returns the status
# it answers; how it travels (a pipe, a Dask queue) is the executor's business.
Reporter = Callable[[str, dict[str, float], int], str]


class RunsTrials(Protocol):
    """What an executor needs of a tuner (`tunelab.tuner.BaseTuner` is one): its oracle,
    replaced by a `WorkerOracle` in the copy a worker gets, and `run_trial`."""

    oracle: Any

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any: ...


def dumps(obj: Any) -> bytes:
    """Pickle `obj`, by value for functions defined in a script or a notebook when
    cloudpickle is installed (it comes with tunelab[dask])."""
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    return pickle.loads(data)


class _MetaRecorder:
    """Stands in for the store in a worker: metadata writes (the backend's name) are kept
    and sent back with the outcome for the driver to write."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}

    def set_meta(self, key: str, value: Any, conn: Any = None) -> None:
        self.meta[key] = value

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)


@dataclass
class _WorkerStudy:
    storage: _MetaRecorder


class WorkerOracle:
    """What a trial running in a worker sees of the oracle.

    It has the objective, the search space and the oracle's settings; `update_trial` (and
    `trial.report`) records metrics in the trial, which go back to the driver with the
    result; `get_best_trials` and `get_trial` answer from a snapshot sent with the trial (the
    10 best finished trials, and the parent trial a Hyperband trial continues).

    Early stopping is decided by the driver's oracle, the single writer: when that oracle
    can stop trials (it has a `pruner`, or overrides `should_stop`), each report also
    travels to the driver through the executor's reporter, and the status the driver's
    oracle answers (STOPPED: stop now) comes back. Without a pruner no trial is stopped, so
    the reports stay in the worker until the trial ends, at no cost.

    It is there for the tuner's own code, such as a KerasTuner-style `run_trial` override
    that calls ``self.oracle.update_trial``. Backends never see it: the worker's tuner makes
    their `tunelab.context.TrialContext`, which reads and reports through it.
    """

    # Attributes read from the (detached) driver oracle.
    _SHARED = frozenset(
        {
            "objective",
            "hyperparameters",
            "max_trials",
            "seed",
            "tune_new_entries",
            "allow_new_entries",
            "max_retries_per_trial",
            "project_dir",
            "sample_new",
            "rng",
            "get_space",
        }
    )

    def __init__(self, oracle: Oracle) -> None:
        detached = copy.copy(oracle)
        detached._study = None
        detached._design_cache = {}  # type: ignore[attr-defined]
        self._oracle = detached
        self._class_name = type(oracle).__name__
        self._snapshot: dict[str, dict[str, Any]] = {}
        self._best: list[str] = []
        self._recorder = _MetaRecorder()
        from tunelab.oracles.base import Oracle

        self._prunes = (
            getattr(oracle, "pruner", None) is not None
            or type(oracle).should_stop is not Oracle.should_stop
        )
        self._reporter: Reporter | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in WorkerOracle._SHARED:
            raise AttributeError(
                f"oracle.{name} is not available to a trial running in a worker (executor "
                "other than 'inline'): the oracle stays in the driver; a trial may read the "
                "objective and the space, report metrics, and read the best trial"
            )
        detached = self.__dict__.get("_oracle")
        if detached is None:  # half-built (while unpickling)
            raise AttributeError(name)
        return getattr(detached, name)

    def _begin(self, task: TrialTask, reporter: Reporter | None = None) -> None:
        self._reporter = reporter
        self._snapshot = dict(task.known_trials)
        self._best = list(task.best_trial_ids)
        self._recorder = _MetaRecorder()

    @property
    def study(self) -> Any:
        """What the tuner's code reaches through `oracle.study` in a worker: a storage that
        records metadata writes (sent back with the outcome)."""
        return _WorkerStudy(self._recorder)

    def update_trial(self, trial: Trial | str, metrics: Any, step: int = 0) -> str:
        if not isinstance(trial, Trial):
            raise TypeError(
                f"trial={trial!r}: in a worker, report with the Trial object the tuner gave "
                "to run_trial"
            )
        values = {
            name: float(value) for name, value in metric_dicts(self.objective, metrics)[0].items()
        }
        for name, value in values.items():
            trial.metrics.update(name, value, step)
        asks = self._prunes and self._reporter is not None
        if asks and trial.status == TrialStatus.RUNNING:
            status = self._reporter(trial.trial_id, values, int(step))  # type: ignore[misc,arg-type]
            if status == TrialStatus.STOPPED:
                trial.status = TrialStatus.STOPPED
        return trial.status

    def end_trial(self, trial: Trial, status: str | None = None) -> None:
        trial.status = status or TrialStatus.COMPLETED
        trial._ended_in_worker = True  # type: ignore[attr-defined]

    def get_trial(self, trial_id: str) -> Trial:
        if trial_id not in self._snapshot:
            raise KeyError(
                f"trial {trial_id!r} was not sent to this worker (a worker knows the 10 best "
                "trials and the trial a Hyperband trial continues)"
            )
        return Trial.from_config(self._snapshot[trial_id])

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return [self.get_trial(t) for t in self._best[:num_trials]]

    def __repr__(self) -> str:
        return f"WorkerOracle(of {self._class_name})"


@dataclass
class WorkerJob:
    """What every worker receives once: the tuner (oracle replaced) and the search arguments."""

    tuner: RunsTrials
    args: tuple
    kwargs: dict[str, Any]
    base_seed: int


def make_job(tuner: RunsTrials, args: tuple, kwargs: dict[str, Any]) -> WorkerJob:
    """The tuner as a worker gets it: a shallow copy holding a `WorkerOracle`."""
    worker_tuner = copy.copy(tuner)
    worker_tuner.oracle = WorkerOracle(tuner.oracle)  # type: ignore[assignment]
    project_dir = getattr(tuner, "project_dir", None)
    if project_dir is not None:
        # A worker started in another folder (or on another host) must write where the
        # driver reads, not under its own working directory.
        worker_tuner.project_dir = Path(project_dir).absolute()  # type: ignore[attr-defined]
    for name in ("executor", "_executor"):
        if name in worker_tuner.__dict__:
            worker_tuner.__dict__[name] = None
    return WorkerJob(worker_tuner, args, kwargs, tuner.oracle._base_seed)


# How many of the best finished trials a worker knows: enough for `get_best_trials` and for
# a backend that keeps the best N models (the Keras backend keeps 10 by default).
_KNOWN_BEST = 10


@dataclass
class TrialTask:
    """One trial to run: its id, number, values and space, and what it may read."""

    trial_id: str
    number: int
    retries: int
    hyperparameters: HyperParameters
    timeout: float | None = None
    known_trials: dict[str, dict[str, Any]] = field(default_factory=dict)
    best_trial_ids: list[str] = field(default_factory=list)
    rng: np.random.Generator | None = None


# In a worker: the last snapshot received, by its bytes. Consecutive tasks mostly carry the
# same one; each task gets its own dict over the same configs, which readers only copy from
# (`Trial.from_config`).
_RECEIVED: dict[bytes, dict[str, dict[str, Any]]] = {}


def _restore_snapshot(data: bytes) -> dict[str, dict[str, Any]]:
    known = _RECEIVED.get(data)
    if known is None:
        known = pickle.loads(data)
        _RECEIVED.clear()
        _RECEIVED[data] = known
    return dict(known)


class _Snapshot(dict):
    """Trial configs by id, as sent with each task: pickled once, when built, then sent as
    those bytes (tasks carry the same snapshot until the best trials change); a worker
    unpickles a plain dict."""

    def __init__(self, configs: dict[str, dict[str, Any]]) -> None:
        super().__init__(configs)
        self.data = pickle.dumps(dict(configs), protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, tuple[bytes]]:
        return (_restore_snapshot, (self.data,))


def task_for(trial: Trial, oracle: Oracle, timeout: float | None) -> TrialTask:
    """The task for `trial`, with the snapshot of trials it may read."""
    hp = trial.hyperparameters.copy()
    hp._sampler = None  # a closure over the driver's oracle; the worker sets its own
    hp._tune_new_entries = trial.hyperparameters._tune_new_entries
    hp._allow_new_entries = trial.hyperparameters._allow_new_entries
    best_ids, snapshot = best_configs(oracle, _KNOWN_BEST, wrap=_Snapshot)
    known: dict[str, dict[str, Any]] = snapshot
    parent = hp.values.get("tuner/trial_id")
    if isinstance(parent, str) and parent not in known:
        with contextlib.suppress(KeyError):
            config = oracle.get_trial(parent).get_config()
            known = {**known, parent: config}  # the snapshot itself is shared by tasks
    return TrialTask(
        trial_id=trial.trial_id,  # type: ignore[arg-type]
        number=trial.number or 0,
        retries=trial.retries,
        hyperparameters=hp,
        timeout=timeout,
        known_trials=known,
        best_trial_ids=best_ids,
        # The trial's random stream as the oracle left it: values registered in the worker
        # (define-by-run) are drawn as they would have been in the driver.
        rng=getattr(trial, "_rng", None),
    )


@dataclass
class TrialOutcome:
    """What a worker sends back for one trial.

    kind is "result" (`result` holds it), "error" (`error_kind` is "setup", "fatal",
    "invalid", "failed" or "error", see `error_kind`, and `message` holds the traceback) or
    "lost" (the worker died). A trial run in the driver's process keeps its exception in
    `error` (raised again as it was for "setup" and "fatal"), and `told` says that its
    run_trial already finished it in the oracle (`oracle.end_trial`). Neither travels.
    """

    trial_id: str
    kind: str
    result: Any = None
    error_kind: str | None = None
    message: str | None = None
    hyperparameters: HyperParameters | None = None
    metrics: dict[str, Any] | None = None
    status: str = TrialStatus.RUNNING
    ended_in_worker: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    worker: str = ""
    duration: float = 0.0
    error: BaseException | None = None
    told: bool = False
    # The trial folder's files ({relative path: content}), sent back by a worker that does
    # not see the driver's project folder (a cluster without a shared file system).
    files: dict[str, bytes] | None = None


def error_kind(error: BaseException) -> str:
    """How a trial's exception ends it (the runner's `tell_outcome` maps it to a status)."""
    if isinstance(error, SearchSetupError):
        return "setup"
    if isinstance(error, FatalError):
        return "fatal"
    if isinstance(error, InvalidTrialError):
        return "invalid"
    if isinstance(error, FailedTrialError):
        return "failed"
    return "error"


def answer_report(handler: Reporter | None, request: Any) -> tuple[str, str]:
    """The driver's answer to a worker's report ``("report", trial_id, metrics, step)``:
    ``("status", status)``, or ``("error", message)`` when the oracle refused it."""
    _, trial_id, metrics, step = request
    if handler is None:
        return ("status", TrialStatus.RUNNING)
    try:
        return ("status", handler(trial_id, dict(metrics), int(step)))
    except Exception as error:  # the worker raises it in the trial, as inline code would
        return ("error", f"oracle.update_trial refused the report: {type(error).__name__}: {error}")


def reply_status(reply: Any) -> str:
    """The status in the driver's reply to a report; raises the oracle's refusal."""
    kind, value = reply
    if kind == "error":
        raise RuntimeError(value)
    return str(value)


def run_task(job: WorkerJob, task: TrialTask, reporter: Reporter | None = None) -> TrialOutcome:
    """Run one trial in this worker and describe how it went (never raises for the trial's
    own errors). `reporter` sends reports to the driver's oracle and returns its status
    (None: the trial is never stopped early)."""
    tuner = job.tuner
    oracle: WorkerOracle = tuner.oracle  # type: ignore[assignment]
    oracle._begin(task, reporter)
    hp = task.hyperparameters
    trial = Trial(hp, trial_id=task.trial_id)
    trial.number, trial.retries = task.number, task.retries
    trial._oracle = oracle  # type: ignore[assignment]
    rng = task.rng if task.rng is not None else np.random.default_rng([job.base_seed, task.number])
    trial._rng = rng  # type: ignore[attr-defined]

    def sample(definition: HyperParameter) -> Any:
        return oracle.sample_new(definition, trial)

    hp._sampler = sample
    # SIGALRM works only in a main thread (a pool worker); a Dask worker thread relies on
    # the driver's limit instead.
    in_main = threading.current_thread() is threading.main_thread()
    limit = time_limit(task.timeout, task.trial_id) if in_main else contextlib.nullcontext()
    outcome = TrialOutcome(task.trial_id, "result", worker=f"{socket.gethostname()}:{os.getpid()}")
    started = time.monotonic()
    try:
        with limit:
            outcome.result = run_trial_result(tuner, trial, job.args, job.kwargs)
    except Exception as error:
        outcome.kind, outcome.error_kind = "error", error_kind(error)
        outcome.message = format_error(error)
    outcome.duration = time.monotonic() - started
    hp._sampler = None
    oracle._reporter = None
    outcome.hyperparameters = hp
    outcome.metrics = trial.metrics.get_config()
    outcome.status = trial.status
    outcome.ended_in_worker = bool(getattr(trial, "_ended_in_worker", False))
    outcome.meta = dict(oracle._recorder.meta)
    if outcome.kind == "result":
        try:
            pickle.dumps(outcome.result)
        except Exception as error:  # it must travel back to the driver
            outcome.message = (
                f"the trial's result {outcome.result!r:.80} cannot be sent back to the "
                f"driver: {error}; return a number, a dict of numbers or a list of dicts"
            )
            outcome.kind, outcome.error_kind, outcome.result = "error", "error", None
    return outcome


def restore_metrics(outcome: TrialOutcome) -> MetricsTracker:
    return MetricsTracker.from_config(outcome.metrics or {})
