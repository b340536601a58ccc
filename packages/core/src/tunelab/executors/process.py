"""A local pool of worker processes, one trial per process, optionally one GPU per process."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from typing import Any

from tunelab.executors.base import Executor, check_max_parallel_trials
from tunelab.executors.gpus import visible_gpus, worker_environments
from tunelab.executors.worker import (
    TrialOutcome,
    TrialTask,
    WorkerJob,
    answer_report,
    dumps,
    loads,
    reply_status,
    run_task,
)

__all__ = ["ProcessPoolExecutor"]


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker when the driver dies, even in the middle of a long trial (the
    driver's next run hands that trial out again)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="tunelab-parent-watch", daemon=True).start()


def _worker_main(conn: Connection, job_bytes: bytes, environment: dict[str, str]) -> None:
    """The loop of one worker process: receive a task, run it, send the outcome back."""
    os.environ.update(environment)
    # Ctrl-C reaches the whole process group; the driver handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    job: WorkerJob | None = None
    load_error = None
    try:
        job = loads(job_bytes)
    except Exception as error:  # every trial would fail the same way: say why, and stop
        load_error = (
            f"a worker process could not load the search ({type(error).__name__}: {error}); "
            "the hypermodel and the arguments of search() must be picklable, and functions "
            "importable (or install cloudpickle)"
        )
    while True:
        try:
            task: TrialTask | None = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        if job is None:
            outcome = TrialOutcome(task.trial_id, "error", error_kind="fatal", message=load_error)
        else:
            outcome = run_task(job, task, reporter=_pipe_reporter(conn))
        conn.send(outcome)


def _pipe_reporter(conn: Connection) -> Any:
    """Reports travel over the worker's own pipe; the driver answers on it while it waits
    for outcomes (one question at a time: the trial waits for the answer)."""

    def report(trial_id: str, metrics: dict[str, float], step: int) -> str:
        conn.send(("report", trial_id, metrics, step))
        return reply_status(conn.recv())

    return report


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables while a worker starts: a spawned process copies the environment then,
    before any framework in it reads CUDA_VISIBLE_DEVICES."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# Frameworks that are not safe to fork once loaded (threads, GPU contexts).
_FORK_UNSAFE = ("tensorflow", "torch", "jax", "keras")


def _start_method(requested: str, gpus: list[str]) -> str:
    if requested != "auto":
        return requested
    safe = (
        sys.platform.startswith("linux")
        and not gpus
        and threading.active_count() == 1
        and not any(name in sys.modules for name in _FORK_UNSAFE)
    )
    return "fork" if safe else "spawn"


@dataclass
class _Slot:
    index: int
    process: Any
    conn: Connection
    trial_id: str | None = None


class ProcessPoolExecutor(Executor):
    """Run trials in local worker processes, one trial per process at a time.

    Each worker receives the tuner and the arguments of `search` once, when it starts, and
    then one small task per trial. A trial that kills its worker (a crash, the out-of-memory
    killer, SIGKILL) gives a "lost" outcome and the worker is replaced; the search loop runs
    that trial again once, and fails it if it kills a worker again.

    Parameters
    ----------
    max_parallel_trials : int, optional
        Number of worker processes. Default: one per visible GPU, or else one per CPU core.
    gpus : "auto", sequence of str/int, or None
        GPUs to spread over the workers (one per worker, in turn; each worker sees only its
        own through ``CUDA_VISIBLE_DEVICES``). "auto" (default) uses the visible GPUs (see
        `visible_gpus`); None leaves the workers' environment alone.
    start_method : {"auto", "spawn", "forkserver", "fork"}
        How worker processes start. "auto" (default): "fork" on Linux when it is safe (this
        process runs no other thread, no GPU is assigned, and no TensorFlow, PyTorch or JAX
        is loaded), so workers start at once with the modules and data already loaded;
        "spawn" otherwise (safe with threads and GPU frameworks, but each worker imports
        everything again).
    ordered : bool, optional
        True: tell results to the oracle in the order trials were asked, so a seeded search
        tries the same configurations every time (a worker that finishes early may wait).
        False: tell each result as soon as it arrives. None (default): ordered for oracles
        that learn from results (Bayesian, Hyperband...; `Oracle.learns_from_results`),
        not for random and grid search (nor ASHA), whose choices do not depend on results.

    Examples
    --------
    >>> import tunelab as kt
    >>> from tunelab.executors import ProcessPoolExecutor
    >>> def objective(hp):
    ...     return (hp.Float("x", -1.0, 1.0) - 0.2) ** 2
    >>> tuner = kt.RandomSearch(objective, objective="loss", max_trials=4, seed=1,
    ...                         directory="/tmp/tunelab-doc", project_name="pool",
    ...                         overwrite=True)
    >>> tuner.search(executor=ProcessPoolExecutor(max_parallel_trials=2), verbose=0)  # doctest: +SKIP
    """

    hard_timeout_grace = 5.0

    def __init__(
        self,
        max_parallel_trials: int | None = None,
        gpus: str | Sequence[str | int] | None = "auto",
        start_method: str = "auto",
        ordered: bool | None = None,
    ) -> None:
        if ordered not in (None, True, False):
            raise ValueError(f"ordered={ordered!r}; expected True, False or None")
        self.ordered = ordered
        self._requested = check_max_parallel_trials(max_parallel_trials)
        if not (gpus is None or gpus == "auto" or isinstance(gpus, (list, tuple))):
            raise ValueError(f"gpus={gpus!r}; expected 'auto', a list of GPU ids or None")
        self.gpus = gpus
        methods = ["auto", *multiprocessing.get_all_start_methods()]
        if start_method not in methods:
            raise ValueError(f"start_method={start_method!r}; expected one of {methods}")
        self.start_method = start_method
        self.max_parallel_trials = self._requested or 0
        self._slots: list[_Slot] = []
        self._job_bytes = b""
        self._environments: list[dict[str, str]] = []

    def __repr__(self) -> str:
        return f"ProcessPoolExecutor(max_parallel_trials={self._requested}, gpus={self.gpus!r})"

    def _gpu_ids(self) -> list[str]:
        if self.gpus is None:
            return []
        if self.gpus == "auto":
            return visible_gpus()
        return [str(g) for g in self.gpus]

    def start(self, job: WorkerJob) -> None:
        gpus = self._gpu_ids()
        count = self._requested or (len(gpus) if gpus else (os.cpu_count() or 1))
        self.max_parallel_trials = count
        self._environments = worker_environments(gpus, count)
        # Pickled once here; each worker unpickles it once, not once per trial.
        self._job_bytes = dumps(job)
        self._context = multiprocessing.get_context(_start_method(self.start_method, gpus))
        self._slots = [self._spawn(i) for i in range(count)]

    def _spawn(self, index: int) -> _Slot:
        parent_conn, child_conn = self._context.Pipe()
        environment = self._environments[index]
        with _environment(environment):
            # Not daemonic: a trial may start processes of its own (joblib, data loaders).
            process = self._context.Process(  # type: ignore[attr-defined]
                target=_worker_main,
                args=(child_conn, self._job_bytes, environment),
                name=f"tunelab-worker-{index}",
            )
            process.start()
        child_conn.close()
        return _Slot(index, process, parent_conn)

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the current workers (for monitoring, and tests)."""
        return [slot.process.pid for slot in self._slots]

    def submit(self, task: TrialTask) -> None:
        for slot in self._slots:
            if slot.trial_id is None:
                if not slot.process.is_alive():  # died while idle
                    self._replace(slot)
                    slot = self._slots[slot.index]
                slot.trial_id = task.trial_id
                slot.conn.send(task)
                return
        raise RuntimeError(
            f"all {len(self._slots)} workers are busy; the search loop submits at most "
            "max_parallel_trials trials at a time"
        )

    def _replace(self, slot: _Slot) -> None:
        with contextlib.suppress(OSError):
            slot.conn.close()
        slot.process.join(timeout=5)
        self._slots[slot.index] = self._spawn(slot.index)

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        busy = [slot for slot in self._slots if slot.trial_id is not None]
        if not busy:
            return []
        watched: dict[Any, _Slot] = {}
        for slot in busy:
            watched[slot.conn] = slot
            watched[slot.process.sentinel] = slot
        outcomes: list[TrialOutcome] = []
        seen: set[int] = set()
        for ready in wait_any(list(watched), timeout):
            slot = watched[ready]
            if slot.index in seen:
                continue
            seen.add(slot.index)
            outcome = self._receive(slot)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _receive(self, slot: _Slot) -> TrialOutcome | None:
        trial_id = slot.trial_id
        assert trial_id is not None
        # A result sent just before the process ended is still read.
        try:
            if slot.conn.poll():
                message = slot.conn.recv()
                if isinstance(message, tuple) and message[0] == "report":
                    slot.conn.send(answer_report(self.report_handler, message))
                    return None
                slot.trial_id = None
                return message
        except (EOFError, OSError):
            pass
        if slot.process.is_alive():
            slot.process.join(timeout=5)
        if slot.process.is_alive():
            return None
        pid, code = slot.process.pid, slot.process.exitcode
        self._replace(slot)
        return TrialOutcome(
            trial_id,
            "lost",
            message=f"its worker process (pid {pid}) died while running it ({_describe_exit(code)})",
        )

    def cancel(self, trial_id: str) -> bool:
        for slot in self._slots:
            if slot.trial_id == trial_id:
                slot.process.kill()
                self._replace(slot)
                return True
        return False

    def shutdown(self) -> None:
        slots, self._slots = self._slots, []
        for slot in slots:
            if slot.trial_id is not None:
                slot.process.kill()  # a running trial: the caller released it
            else:
                with contextlib.suppress(OSError, ValueError):
                    slot.conn.send(None)
        for slot in slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            with contextlib.suppress(OSError):
                slot.conn.close()
