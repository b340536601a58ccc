"""A search run in its own process by the reliability tests, with an optional fault.

Run as ``python search_worker.py '<json settings>'``. Each trial reports a few steps, then
appends ``pid trial_id value`` to a journal (flushed and fsynced) just before it returns, so
the tests can tell which trials really ran and what each one reported.

Faults (``settings["fault"]``), each injected once, from inside this process:

``fit``      SIGKILL in the middle of trial number ``at`` (between two reported steps).
``write``    SIGKILL inside the ``at``-th store transaction, after its statements ran and
             before it commits.
``commit``   SIGKILL at the moment SQLite starts the ``at``-th COMMIT.
``between``  SIGKILL after trial ``at`` is stored, before the next trial is asked for.
``timer``    SIGKILL from a timer thread after ``delay`` seconds, wherever the search is.
``sigint``   SIGINT (Ctrl-C) to itself in the middle of trial number ``at``.
``sigint_write`` SIGINT inside the ``at``-th store transaction, before it commits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import tunelab as kt
from tunelab.store import Store


def _journal(path: str, text: str) -> None:
    # One small O_APPEND write per line: lines from several processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _install_store_fault(kind: str, at: int) -> None:
    """Kill (or interrupt) this process inside the `at`-th store transaction."""
    original = Store.transaction
    count = {"n": 0}
    sig = signal.SIGINT if kind == "sigint_write" else signal.SIGKILL

    @contextlib.contextmanager
    def transaction(self: Store) -> Any:
        with original(self) as conn:
            count["n"] += 1
            number = count["n"]
            if kind == "commit" and number == at:
                # The trace callback runs just before SQLite executes each statement.
                def trace(statement: str) -> None:
                    if statement.strip().upper().startswith("COMMIT"):
                        os.kill(os.getpid(), signal.SIGKILL)

                conn.set_trace_callback(trace)
            yield conn
            if kind in ("write", "sigint_write") and number == at:
                os.kill(os.getpid(), sig)
                time.sleep(5)  # SIGINT is handled at the next bytecode; never reached for KILL

    Store.transaction = transaction  # type: ignore[method-assign]


class JournalledSearch(kt.RandomSearch):
    """Random search whose trials report steps and journal their final value."""

    def __init__(self, settings: dict[str, Any], **kwargs: Any) -> None:
        self.settings = settings
        fault = settings.get("fault") or {}
        self.fault_kind = fault.get("kind")
        self.fault_at = fault.get("at")
        super().__init__(**kwargs)

    def run_trial(self, trial: kt.Trial, *args: Any, **kwargs: Any) -> float:
        hp = trial.hyperparameters
        x = hp.Float("x", -1.0, 1.0)
        n = hp.Int("n", 0, 10**6)
        steps = self.settings.get("steps", 3)
        pause = self.settings.get("sleep", 0.01)
        value = x * x + n / 10**6
        for step in range(steps):
            time.sleep(pause)
            if step == steps // 2 and trial.number == self.fault_at:
                if self.fault_kind == "fit":
                    os.kill(os.getpid(), signal.SIGKILL)
                if self.fault_kind == "sigint":
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(5)  # the KeyboardInterrupt arrives here
            trial.report(value + (steps - step), step)
        _journal(self.settings["journal"], f"{os.getpid()} {trial.trial_id} {value!r}\n")
        return value

    def on_trial_end(self, trial: kt.Trial) -> None:
        if self.fault_kind == "between" and trial.number == self.fault_at:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    settings = json.loads(sys.argv[1])
    fault = settings.get("fault") or {}
    kind = fault.get("kind")
    if kind in ("write", "commit", "sigint_write"):
        _install_store_fault(kind, fault["at"])
    if kind == "timer":
        timer = threading.Timer(fault["delay"], os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()
    # storage: a PostgreSQL URL (tests/postgres), the project then lives in that database.
    extra = {"storage": settings["storage"]} if settings.get("storage") else {}
    tuner = JournalledSearch(
        settings,
        objective="loss",
        max_trials=settings["max_trials"],
        seed=settings.get("seed", 7),
        directory=settings["directory"],
        project_name=settings.get("project_name", "project"),
        max_consecutive_failed_trials=None,
        **extra,
    )
    tuner.search(verbose=0)
    print("done", len(tuner.oracle.trials), flush=True)
    time.sleep(settings.get("linger", 0))  # a process that lives on after its search


if __name__ == "__main__":
    main()
