"""A per-trial time limit for trials that run in the tuner's own process."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from tunelab.errors import TrialTimeoutError

__all__ = ["time_limit"]


@contextlib.contextmanager
def time_limit(seconds: float | None, trial_id: str | None = None) -> Iterator[None]:
    """Raise `TrialTimeoutError` in the body once `seconds` have passed.

    Uses a real-time interval timer (SIGALRM), so it works in the main thread on Unix and
    stops Python code, sleeps and most blocking calls. Code stuck inside one long C call is
    stopped when that call returns; run trials in separate processes for a hard limit.
    """
    if seconds is None:
        yield
        return
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        raise RuntimeError(
            f"trial_timeout={seconds!r} needs the main thread on a Unix system; run the search "
            "from the main thread, or leave trial_timeout unset"
        )

    def expire(signum: int, frame: Any) -> None:
        raise TrialTimeoutError(f"trial {trial_id} ran longer than trial_timeout={seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
