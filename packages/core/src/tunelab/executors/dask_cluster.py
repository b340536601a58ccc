"""Trials as Dask tasks on a `distributed` cluster (one machine or many)."""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tunelab.checks import check_seconds
from tunelab.executors.base import Executor, check_max_parallel_trials
from tunelab.executors.worker import TrialOutcome, TrialTask, WorkerJob, answer_report, dumps
from tunelab.log import get_logger

try:
    import distributed
except ImportError as error:  # this module is imported only when Dask is asked for
    raise ImportError(
        "the Dask executor needs dask.distributed, which is not installed: "
        "pip install 'dask[distributed]>=2024.1' (or pip install './packages/core[dask]' from a "
        "checkout)"
    ) from error

from tunelab.executors.dask_tasks import (
    InstallJob,
    marker,
    reply_name,
    reports_name,
    run_installed,
)

__all__ = ["DaskExecutor"]

# What the driver puts in its own report queue to end the thread that reads it.
_STOP = "stop"
# How often a driver waiting for trials asks the scheduler whether any worker is left
# (one round trip; Dask itself keeps such tasks pending, silently, for ever).
_WORKER_CHECK_S = 5.0

_log = get_logger("dask")


def _import_distributed() -> Any:
    return distributed


def _outcome(future: Any, trial_id: str) -> TrialOutcome:
    """The outcome of a trial's ended task, asked of its future; never raises."""
    status = future.status
    try:
        if status == "finished":
            return future.result()
        error = future.exception() if status == "error" else None
    except BaseException as failure:  # the client closed, or the result could not be fetched
        error = failure
    killed = type(error).__name__ == "KilledWorker"
    return TrialOutcome(
        trial_id,
        "error",
        error_kind="error",
        message=(
            f"its task kept killing Dask workers and Dask gave up on it: {error}"
            if killed
            else f"its Dask task ended with status {status!r}: {error!r}"
        ),
    )


class DaskExecutor(Executor):
    """Run each trial as a task on a Dask cluster; the oracle and the store stay here.

    The tuner and the arguments of `search` (the data) go to every worker once, as a worker
    plugin (so workers that join or restart later get them too); each trial is then one
    small task. When a worker dies in the middle of a trial, Dask runs
    the task again on another worker; a task that kills workers too often (Dask's
    ``distributed.scheduler.allowed-failures``, 3 by default) fails the trial.

    Parameters
    ----------
    client : distributed.Client or str, optional
        The cluster to use, or a scheduler address (``"tcp://host:8786"``). None: the current
        client (the last one created in this process).
    max_parallel_trials : int, optional
        Trials in flight at once. Default: the number of worker threads of the cluster, or,
        with `resources`, the number of workers that have them.
    resources : dict, optional
        Dask resources each trial needs, e.g. ``{"GPU": 1}`` with workers started with
        ``--resources GPU=1``: one trial per GPU.
    ordered : bool, optional
        Tell results in the order trials were asked (True; reproducible), or as they arrive
        (False). None (default): ordered for oracles that learn from results
        (`Oracle.learns_from_results`; not random and grid search, nor ASHA).
    worker_timeout : float or None, optional
        When the cluster has lost every worker (that has `resources`) while trials wait,
        a warning says so within seconds; after this many seconds without a worker the
        search stops with an error, its unfinished trials released to run again when it is
        resumed. None: wait for workers as long as it takes (the warning still shows).
        Default 300.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> tuner.search(x, y, executor=client)  # doctest: +SKIP
    """

    hard_timeout_grace = 0.0

    def __init__(
        self,
        client: Any = None,
        max_parallel_trials: int | None = None,
        resources: dict[str, float] | None = None,
        ordered: bool | None = None,
        worker_timeout: float | None = 300.0,
    ) -> None:
        if ordered not in (None, True, False):
            raise ValueError(f"ordered={ordered!r}; expected True, False or None")
        self.ordered = ordered
        self.worker_timeout = check_seconds("worker_timeout", worker_timeout)
        self._no_worker_since: float | None = None
        self._last_check = 0.0
        distributed = _import_distributed()
        if client is None:
            try:
                client = distributed.Client.current()
            except ValueError:
                raise ValueError(
                    "client=None and no Dask client is running in this process: create one "
                    "(distributed.Client(address)) and pass it"
                ) from None
        elif isinstance(client, str):
            client = distributed.Client(client)
        elif not isinstance(client, distributed.Client):
            raise TypeError(
                f"client={client!r}; expected a distributed.Client, a scheduler address or None"
            )
        if resources is not None and (
            not isinstance(resources, dict)
            or not all(
                isinstance(k, str) and isinstance(v, (int, float)) for k, v in resources.items()
            )
        ):
            raise ValueError(f"resources={resources!r}; expected a dict like {{'GPU': 1}}")
        self.client = client
        self.resources = resources
        self._requested = check_max_parallel_trials(max_parallel_trials)
        self.max_parallel_trials = self._requested or 0
        self._futures: dict[str, Any] = {}
        self._job: str | None = None
        self._tag, self._serial = "", itertools.count()
        self._reports: Any = None
        self._replies: dict[str, Any] = {}
        # Reports (read from the Dask queue by a thread) and ended tasks with their outcomes
        # (from `_track`, in the client's loop) in one local queue: the driver blocks on both
        # at once.
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pump: threading.Thread | None = None
        self._project_dir: Any = None

    def __repr__(self) -> str:
        return (
            f"DaskExecutor({self.client!r}, max_parallel_trials={self._requested}, "
            f"resources={self.resources!r})"
        )

    def _capacity(self) -> int:
        info = self.client.scheduler_info()  # asks the scheduler (not a cached answer)
        workers = info.get("workers", {})
        if self.resources:
            return sum(
                1
                for w in workers.values()
                if all(w.get("resources", {}).get(k, 0) >= v for k, v in self.resources.items())
            )
        return sum(w.get("nthreads", 1) for w in workers.values())

    def start(self, job: WorkerJob) -> None:
        if not self._requested:
            capacity = self._capacity()
            if capacity == 0:
                raise RuntimeError(
                    f"the Dask cluster {self.client.scheduler.address} has no worker"
                    + (f" with resources {self.resources}" if self.resources else "")
                    + "; start workers, or pass max_parallel_trials"
                )
            self.max_parallel_trials = capacity
        self._inbox = queue.SimpleQueue()  # nothing left from an earlier search
        # One copy per worker, sent and unpickled once; tasks name it by id.
        self._job = f"tunelab-job-{uuid.uuid4().hex}"
        self._project_dir = getattr(job.tuner, "project_dir", None)
        if self._project_dir is not None:
            Path(self._project_dir).mkdir(parents=True, exist_ok=True)
            (Path(self._project_dir) / marker(self._job)).touch()
        # Task keys: unique on a shared cluster by this search's tag, then a counter (a
        # uuid4 per task costs a system call on the driver's path).
        self._tag, self._serial = self._job[-8:], itertools.count()
        self.client.register_plugin(InstallJob(self._job, dumps(job)), name=self._job)
        # Reports come back through a Dask queue only when the oracle can stop trials.
        if getattr(job.tuner.oracle, "_prunes", False):
            self._reports = distributed.Queue(reports_name(self._job), client=self.client)
            self._pump = threading.Thread(
                target=self._read_reports, name="tunelab-dask-reports", daemon=True
            )
            self._pump.start()

    def _read_reports(self) -> None:
        """Move reports from the Dask queue to the local inbox (a blocking get without a
        timeout: the scheduler logs an error for every get that times out)."""
        reports = self._reports
        while True:
            try:
                item = reports.get()
            except Exception:  # the client or the cluster closed
                return
            if item == _STOP:
                return
            self._inbox.put(item)

    def submit(self, task: TrialTask) -> None:
        # The task travels as bytes: the scheduler (in this process with a LocalCluster)
        # would otherwise unpickle it and pickle it again for the worker.
        future = self.client.submit(
            run_installed,
            self._job,
            dumps(task),
            key=f"tunelab-trial-{task.trial_id}-{self._tag}-{next(self._serial)}",
            pure=False,
            resources=self.resources,
        )
        self._futures[task.trial_id] = future
        # The task is waited for and its result fetched in the client's event loop, while
        # the driver asks and tells; the outcome lands in the inbox with the reports. The
        # driver then waits on a local queue, not on a round trip to the loop per trial.
        self.client.loop.add_callback(self._track, future, task.trial_id, self._inbox)

    async def _track(self, future: Any, trial_id: str, inbox: queue.SimpleQueue) -> None:
        """(In the client's event loop.) Put the trial's outcome in `inbox` once its task
        ends; None when it did not finish (the driver asks the future why)."""
        try:
            (outcome,) = await self.client.gather([future], errors="skip", asynchronous=True)
        except BaseException:  # the client closed, or the result could not be fetched
            outcome = None
        inbox.put(("done", trial_id, future, outcome))

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Outcomes of the trials that ended, answering the trials' reports meanwhile;
        blocks until one trial ends (or `timeout` passes: then [])."""
        if not self._futures:
            return []
        deadline = None if timeout is None else time.monotonic() + timeout
        outcomes: list[TrialOutcome] = []
        while not outcomes:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return []
            try:
                item = self._inbox.get(timeout=_WORKER_CHECK_S if left is None else left)
            except queue.Empty:
                self._watch_workers()
                continue
            # Everything that is in already: one wake-up tells several trials.
            while True:
                self._take(item, outcomes)
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
        return outcomes

    def _watch_workers(self) -> None:
        """Called while nothing arrives: say so when the cluster has no worker left to run
        the trials in flight, and stop the search once `worker_timeout` has passed."""
        now = time.monotonic()
        if now - self._last_check < _WORKER_CHECK_S:
            return  # the runner polls more often than that (trial timeouts, other processes)
        self._last_check = now
        try:
            workers = self._capacity()
        except Exception:  # the scheduler itself is unreachable: Dask's own errors follow
            return
        if workers:
            if self._no_worker_since is not None:
                _log.warning("the Dask cluster has workers again; the search goes on")
                self._no_worker_since = None
            return
        address = getattr(self.client.scheduler, "address", "?")
        kind = f" with resources {self.resources}" if self.resources else ""
        if self._no_worker_since is None:
            self._no_worker_since = now
            limit = (
                "it waits for one as long as it takes (worker_timeout=None)"
                if self.worker_timeout is None
                else f"the search stops if none joins within {self.worker_timeout:g} s"
            )
            _log.warning(
                "the Dask cluster %s has no worker%s left; %d trial(s) wait for one. Start "
                "workers (`dask worker %s`); %s",
                address, kind, len(self._futures), address, limit,
            )  # fmt: skip
            return
        waited = now - self._no_worker_since
        if self.worker_timeout is not None and waited >= self.worker_timeout:
            raise RuntimeError(
                f"the Dask cluster {address} has had no worker{kind} for {waited:.0f} s "
                f"(worker_timeout={self.worker_timeout:g}): the search stopped, and its "
                f"{len(self._futures)} unfinished trial(s) run again when it is resumed. "
                "Start workers and search again"
            )

    def _take(self, item: Any, outcomes: list[TrialOutcome]) -> None:
        """Handle one inbox item: a trial's report (answered) or its task's end."""
        if item[0] == "done":
            _, trial_id, future, outcome = item
            # A cancelled task (trial_timeout, shutdown) or one of a trial handed out again
            # is no longer the one in flight: its end tells nothing.
            if self._futures.get(trial_id) is future:
                del self._futures[trial_id]
                self._release_replies(trial_id)
                if outcome is None:
                    outcome = _outcome(future, trial_id)
                self._unpack_trial_folder(outcome)
                outcomes.append(outcome)
            return
        trial_id = item[1]
        replies = self._replies.get(trial_id)
        if replies is None:
            name = reply_name(self._job or "", trial_id)
            replies = distributed.Queue(name, client=self.client)
            self._replies[trial_id] = replies
        replies.put(answer_report(self.report_handler, item))

    def _unpack_trial_folder(self, outcome: TrialOutcome) -> None:
        """Write the files a worker without the driver's file system sent back into the
        trial's folder here, before the trial is told (its model is then where
        `get_best_models` looks)."""
        files, outcome.files = outcome.files, None
        if not files or self._project_dir is None:
            return
        folder = (Path(self._project_dir) / f"trial_{outcome.trial_id}").absolute()
        try:
            for name, content in files.items():
                path = (folder / name).absolute()
                if os.path.normpath(path).startswith(os.path.normpath(folder) + os.sep):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
        except OSError as error:
            outcome.kind, outcome.error_kind, outcome.result = "error", "error", None
            outcome.message = f"the trial's files could not be written to {folder}: {error}"

    def _release_replies(self, trial_id: str) -> None:
        replies = self._replies.pop(trial_id, None)
        if replies is not None:
            with contextlib.suppress(Exception):
                replies.close()

    def cancel(self, trial_id: str) -> bool:
        future = self._futures.pop(trial_id, None)
        if future is None:
            return False
        future.cancel()
        self._release_replies(trial_id)
        return True

    def shutdown(self) -> None:
        futures, self._futures = list(self._futures.values()), {}
        if futures:
            self.client.cancel(futures)
        for trial_id in list(self._replies):
            self._release_replies(trial_id)
        reports, self._reports = self._reports, None
        if reports is not None:
            with contextlib.suppress(Exception):
                reports.put(_STOP)
            if self._pump is not None:
                self._pump.join(timeout=5)
                self._pump = None
            with contextlib.suppress(Exception):
                reports.close()
        if self._job is not None and self._project_dir is not None:
            with contextlib.suppress(OSError):
                (Path(self._project_dir) / marker(self._job)).unlink()
        if self._job is not None:
            name, self._job = self._job, None
            # The cluster may be gone already (closed first); nothing is left to free then.
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(name)
