"""Trials as Dask tasks on a `distributed` cluster (one machine or many)."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from tunelab.executors.base import Executor, check_max_parallel_trials
from tunelab.executors.worker import TrialOutcome, TrialTask, WorkerJob, dumps, loads, run_task

try:
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as error:  # this module is imported only when Dask is asked for
    raise ImportError(
        "the Dask executor needs dask.distributed: pip install 'tunelab[dask]'"
    ) from error

__all__ = ["DaskExecutor"]

# The searches installed in this (worker) process, by id.
_JOBS: dict[str, WorkerJob] = {}


class _InstallJob(WorkerPlugin):
    """Unpickles a search's job once in each worker process, including workers that join
    or restart later. (A scattered future would do for a while, but Dask's memory manager
    drops replicas no task is waiting for, and then moves the data again.)"""

    def __init__(self, job_id: str, job_bytes: bytes) -> None:
        self.job_id = job_id
        self.job_bytes = job_bytes

    def setup(self, worker: Any) -> None:
        _JOBS[self.job_id] = loads(self.job_bytes)

    def teardown(self, worker: Any) -> None:
        _JOBS.pop(self.job_id, None)


def _run_installed(job_id: str, task: TrialTask) -> TrialOutcome:
    job = _JOBS.get(job_id)
    if job is None:
        return TrialOutcome(
            task.trial_id,
            "error",
            error_kind="fatal",
            message=f"the search {job_id} is not installed on this Dask worker",
        )
    return run_task(job, task)


def _import_distributed() -> Any:
    return distributed


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
        (False). None (default): ordered except for random and grid search.

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
    ) -> None:
        if ordered not in (None, True, False):
            raise ValueError(f"ordered={ordered!r}; expected True, False or None")
        self.ordered = ordered
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

    def __repr__(self) -> str:
        return (
            f"DaskExecutor({self.client!r}, max_parallel_trials={self._requested}, "
            f"resources={self.resources!r})"
        )

    def _capacity(self) -> int:
        info = self.client.scheduler_info()
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
        # One copy per worker, sent and unpickled once; tasks name it by id.
        self._job = f"tunelab-job-{uuid.uuid4().hex}"
        self.client.register_plugin(_InstallJob(self._job, dumps(job)), name=self._job)

    def submit(self, task: TrialTask) -> None:
        future = self.client.submit(
            _run_installed,
            self._job,
            task,
            key=f"tunelab-trial-{task.trial_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
            resources=self.resources,
        )
        self._futures[task.trial_id] = future

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        if not self._futures:
            return []
        distributed = _import_distributed()
        try:
            distributed.wait(
                list(self._futures.values()), timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except TimeoutError:
            return []
        outcomes = []
        for trial_id, future in list(self._futures.items()):
            if not future.done():
                continue
            del self._futures[trial_id]
            if future.status == "finished":
                outcomes.append(future.result())
                continue
            error = future.exception() if future.status == "error" else None
            killed = type(error).__name__ == "KilledWorker"
            outcomes.append(
                TrialOutcome(
                    trial_id,
                    "error",
                    error_kind="error",
                    message=(
                        f"its task kept killing Dask workers and Dask gave up on it: {error}"
                        if killed
                        else f"its Dask task ended with status {future.status!r}: {error!r}"
                    ),
                )
            )
        return outcomes

    def cancel(self, trial_id: str) -> bool:
        future = self._futures.pop(trial_id, None)
        if future is None:
            return False
        future.cancel()
        return True

    def shutdown(self) -> None:
        futures, self._futures = list(self._futures.values()), {}
        if futures:
            self.client.cancel(futures)
        if self._job is not None:
            name, self._job = self._job, None
            # The cluster may be gone already (closed first); nothing is left to free then.
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(name)
