"""Who runs a trial, and whether they are gone: the claims the study hands out.

A trial handed out by `ask` is claimed by this host and process (a detached trial by
nobody). When another process asks, a RUNNING trial whose owner is gone is handed out again.
Liveness is known only on the owner's host (``/proc`` and ``kill(pid, 0)``): a trial claimed
on another host is never taken from it.
"""

from __future__ import annotations

import os
import socket

from tunelab.storage import Claim, StoredTrial

__all__ = ["claim_for", "owner_is_gone"]

_HOST = socket.gethostname()


def claim_for(tuner_id: str | None, detached: bool, now: float) -> Claim:
    """This process's claim on a trial it starts at `now` (no owner when `detached`:
    nobody's death then means the trial was abandoned)."""
    if detached:
        return Claim(None, None, tuner_id, now)
    return Claim(_HOST, os.getpid(), tuner_id, now)


def owner_is_gone(trial: StoredTrial) -> bool:
    """Whether the process that runs `trial` is gone (knowable on this host only)."""
    pid = trial.owner_pid
    if trial.owner_host != _HOST or pid is None or pid == os.getpid():
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
