"""What runs inside a Dask worker process for `DaskExecutor`: the search installed once per
worker (a worker plugin), each trial's task, its reports to the driver, and, where the
worker does not see the driver's project folder, the trial's files sent back with its
outcome."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import distributed
from distributed.diagnostics.plugin import WorkerPlugin

from tunelab.executors.worker import (
    TrialOutcome,
    TrialTask,
    WorkerJob,
    loads,
    reply_status,
    run_task,
)
from tunelab.trial import TrialStatus

# The searches installed in this (worker) process, by id.
_JOBS: dict[str, WorkerJob] = {}
# Searches whose project folder this worker cannot see (no shared file system): the
# worker's own scratch folder that stands in for it, by search id.
_SCRATCH: dict[str, Path] = {}
# The most a trial's folder may weigh to travel back to the driver through Dask.
_MAX_SHIPPED_BYTES = 2 * 1024**3
# This worker's handle on each search's report queue (one create on the scheduler each).
_REPORT_QUEUES: dict[str, Any] = {}

# Seconds a trial waits for the driver's answer to a report before it goes on as if told
# to continue (the driver may be busy asking the oracle, or gone).
_REPLY_TIMEOUT = 120.0


def reports_name(job_id: str) -> str:
    return f"{job_id}-reports"


def reply_name(job_id: str, trial_id: str) -> str:
    return f"{job_id}-reply-{trial_id}"


class InstallJob(WorkerPlugin):
    """Unpickles a search's job once in each worker process, including workers that join
    or restart later. (A scattered future would do for a while, but Dask's memory manager
    drops replicas no task is waiting for, and then moves the data again.)"""

    def __init__(self, job_id: str, job_bytes: bytes) -> None:
        self.job_id = job_id
        self.job_bytes = job_bytes

    def setup(self, worker: Any) -> None:
        job = loads(self.job_bytes)
        project_dir = getattr(job.tuner, "project_dir", None)
        if project_dir is not None and not (Path(project_dir) / marker(self.job_id)).exists():
            # This worker does not see the driver's folder: trials write to a scratch
            # folder here, and each trial's files travel back with its outcome.
            scratch = Path(tempfile.mkdtemp(prefix="tunelab-worker-")) / Path(project_dir).name
            scratch.mkdir()
            _SCRATCH[self.job_id] = scratch
            job.tuner.project_dir = scratch
        _JOBS[self.job_id] = job

    def teardown(self, worker: Any) -> None:
        _JOBS.pop(self.job_id, None)
        scratch = _SCRATCH.pop(self.job_id, None)
        if scratch is not None:
            shutil.rmtree(scratch.parent, ignore_errors=True)
        queue = _REPORT_QUEUES.pop(self.job_id, None)
        if queue is not None:
            with contextlib.suppress(Exception):
                queue.close()


class _QueueReporter:
    """Sends a trial's reports to the driver through the search's Dask queue, and reads
    the answers from a queue of the trial's own (made before the first question, so the
    answer cannot come first)."""

    def __init__(self, job_id: str, trial_id: str) -> None:
        self.job_id, self.trial_id = job_id, trial_id
        self.replies: Any = None

    def __call__(self, trial_id: str, metrics: dict[str, float], step: int) -> str:
        if self.replies is None:
            self.replies = distributed.Queue(reply_name(self.job_id, self.trial_id))
        reports = _REPORT_QUEUES.get(self.job_id)
        if reports is None:
            reports = _REPORT_QUEUES[self.job_id] = distributed.Queue(reports_name(self.job_id))
        reports.put(("report", trial_id, metrics, step))
        try:
            return reply_status(self.replies.get(timeout=_REPLY_TIMEOUT))
        except TimeoutError:
            return TrialStatus.RUNNING

    def close(self) -> None:
        if self.replies is not None:
            with contextlib.suppress(Exception):
                self.replies.close()


def run_installed(job_id: str, task_bytes: bytes) -> TrialOutcome:
    task: TrialTask = loads(task_bytes)
    job = _JOBS.get(job_id)
    if job is None:
        return TrialOutcome(
            task.trial_id,
            "error",
            error_kind="fatal",
            message=f"the search {job_id} is not installed on this Dask worker",
        )
    reporter = _QueueReporter(job_id, task.trial_id)
    try:
        outcome = run_task(job, task, reporter=reporter)
    finally:
        reporter.close()
    scratch = _SCRATCH.get(job_id)
    if scratch is not None:
        _pack_trial_folder(outcome, scratch / f"trial_{task.trial_id}")
    return outcome


def marker(job_id: str) -> str:
    """The file the driver puts in its project folder while a search runs: a worker that
    sees it shares the driver's file system."""
    return f".{job_id}"


def _pack_trial_folder(outcome: TrialOutcome, folder: Path) -> None:
    """Move the trial folder's files (model, checkpoints) into `outcome`, for the driver to
    write into its own project folder; fail the trial when they are too large to travel."""
    if not folder.is_dir():
        return
    files = [p for p in folder.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    if size > _MAX_SHIPPED_BYTES:
        outcome.kind, outcome.error_kind, outcome.result = "error", "error", None
        outcome.message = (
            f"the trial's files ({size / 1e6:.0f} MB in {folder}) are too large to send back "
            f"to the driver (at most {_MAX_SHIPPED_BYTES / 1e6:.0f} MB), and this worker "
            f"({outcome.worker}) does not see the driver's project folder: give the workers "
            "a shared file system and a `directory` on it"
        )
    else:
        outcome.files = {str(p.relative_to(folder)): p.read_bytes() for p in files}
    shutil.rmtree(folder, ignore_errors=True)
