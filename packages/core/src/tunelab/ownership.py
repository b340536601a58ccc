"""Who runs a trial, and whether they are gone: claims, leases and the heartbeat.

A trial handed out by `ask` is claimed by this process (a detached trial by nobody) under
this process's lease: a row of the store saying "process `pid` on `host` holds its trials
until `expires_at`". While the process holds running trials, a daemon thread (the
heartbeat) renews the lease every ``lease / 6`` seconds, one small write per store
whatever the number of trials. When another process asks, a RUNNING trial is handed out
again when its owner is gone:

* in another *node* (another host, boot or PID namespace, where its PID means nothing
  here): when its lease has expired, i.e. the owner stopped renewing for a whole lease
  period (it died, was frozen, or lost the store). A restarted container's process has the
  dead one's PID (often 1) and host name but a new PID namespace: it waits for the lease
  instead of mistaking the dead owner for itself;
* in this process's node (same host, boot ``/proc/sys/kernel/random/boot_id`` and PID
  namespace): at once when its PID is dead or now names a later process (another start
  time); never while it is alive, even if a long call holding the GIL delays its
  heartbeat. Where the start time is unknown (no ``/proc``), the lease decides.

The lease lasts `DEFAULT_LEASE_SECONDS` (60 s), or ``TUNELAB_LEASE_SECONDS`` from the
environment. The heartbeat runs in the process that asked for the trials: the driver, for
trials it hands to a process pool or a Dask cluster (workers report to it; when the
driver dies its trials are recovered, not the workers'). Clocks of hosts sharing a store
must agree to well within a lease. A lease says the process is alive, not that its trial
makes progress: a hung trial is stopped by ``trial_timeout``.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from tunelab.storage import STORE_FILENAME, Claim, Lease, Storage, Store, StoredTrial, StoreError

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "claim_for",
    "held_elsewhere",
    "hold",
    "is_mine",
    "lease_is_live",
    "lease_seconds",
    "live_holders",
    "refuse_overwrite_while_searched",
    "wait_for_held_trials",
    "owner_is_gone",
]

DEFAULT_LEASE_SECONDS = 60.0
_ENV = "TUNELAB_LEASE_SECONDS"
_HOST = socket.gethostname()


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _start_time(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), or None if unknown."""
    try:
        fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        return int(fields[19])  # field 22 of proc(5), counted after the command name
    except (IndexError, ValueError):
        return None


def _node() -> str:
    """Where a PID names one process: host, boot and PID namespace (what is knowable). The
    namespace is its inode and its first process's start time: the kernel gives a new
    namespace the inode of one just destroyed (a container restarted at once)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    boot = _read("/proc/sys/kernel/random/boot_id")
    return f"{_HOST}|{boot}|{namespace}@{_start_time(1)}"


_NODE = _node()
_TOKEN = uuid.uuid4().hex


def lease_seconds() -> float:
    """The lease this process takes: ``TUNELAB_LEASE_SECONDS`` or 60 s."""
    text = os.environ.get(_ENV)
    if text is None:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{_ENV}={text!r}; expected a number of seconds > 0 (e.g. 60)")
    return value


def claim_for(tuner_id: str | None, detached: bool, now: float) -> Claim:
    """This process's claim on a trial it starts at `now` (no owner when `detached`:
    nobody's death then means the trial was abandoned)."""
    if detached:
        return Claim(None, None, tuner_id, now)
    return Claim(_HOST, os.getpid(), tuner_id, now, _TOKEN)


_PID_START = _start_time(os.getpid())


def _pid_is_dead(pid: int) -> bool:
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
    except (PermissionError, OverflowError):
        return False
    return False


def owner_is_gone(trial: StoredTrial, now: float | None = None) -> bool:
    """Whether the process that runs `trial` is gone (see the module docstring)."""
    pid, token, lease = trial.owner_pid, trial.owner_token, trial.lease
    if pid is None and token is None:
        return False  # detached: told by whoever holds it, never taken back
    now = time.time() if now is None else now
    here = lease.node == _NODE if lease is not None else trial.owner_host == _HOST
    mine = pid == os.getpid()
    if here and pid is not None and not mine:
        if _pid_is_dead(pid):
            return True
        if lease is not None and lease.pid == pid and lease.pid_start is not None:
            # Alive, and in this node its start time says whether it is the owner or a
            # later process given the same PID: no need to wait for the lease. (A live
            # owner keeps its trial even when a long call holding the GIL delays its
            # heartbeat past the lease.)
            started = _start_time(pid)
            if started is not None:
                return started != lease.pid_start
    if token is None:
        # A storage without leases: only a dead PID on this host tells (checked above).
        return False
    if token == _TOKEN and mine:
        return False
    if lease is None:
        # Its lease row was pruned long after it expired, or it was claimed before leases
        # existed (a migrated schema-1 store): its claim counts as one lease period.
        claimed_at = trial.started_at if trial.started_at is not None else 0.0
        return claimed_at + DEFAULT_LEASE_SECONDS < now
    return lease.expires_at < now


def held_elsewhere(storage: Storage, now: float | None = None) -> list[StoredTrial]:
    """The RUNNING trials whose owners only their leases can vouch for (they run in another
    node) and whose leases have not expired: each ends there, or runs again here once its
    owner stops renewing. (Owners in this node are known alive by their PID.)"""
    running = storage.get_trials(("RUNNING",))
    foreign = [t for t in running if t.owner_token not in (None, _TOKEN)]
    if not foreign:
        return []
    now = time.time() if now is None else now
    leases = {lease.token: lease for lease in storage.leases()}
    out = []
    for trial in foreign:
        lease = leases.get(trial.owner_token)  # type: ignore[arg-type]
        if lease is not None and lease.node != _NODE and lease.expires_at >= now:
            trial.lease = lease
            out.append(trial)
    return out


def is_mine(trial: StoredTrial) -> bool:
    """Whether this process claimed `trial` (its last claim)."""
    return trial.owner_token == _TOKEN and trial.owner_pid == os.getpid()


def wait_for_held_trials(storage: Storage, now: float, announced: set[str]) -> bool:
    """Whether a search with nothing left to create waits for trials held in another node
    by owners whose leases still run (see `held_elsewhere`): if one died, its trial runs
    again here when the lease expires, instead of staying RUNNING. Each trial waited for
    is announced once (its id is added to `announced`)."""
    held = held_elsewhere(storage, now)
    for trial in held:
        lease = trial.lease
        if lease is not None and trial.trial_id not in announced:
            announced.add(trial.trial_id)
            print(
                f"Waiting for trial {trial.trial_id}, run by process {lease.pid} on host "
                f"{lease.host!r}: it ends there, or runs again here if that process stops "
                f"renewing its lease (expires in {lease.expires_at - now:.0f} s)."
            )
    return bool(held)


def refuse_overwrite_while_searched(project_dir: Path, storage: Storage | None = None) -> None:
    """Raise `StoreError` if another live process holds a lease on the project in
    `project_dir` (or in `storage`, a server store): overwrite=True would delete its trials
    under it (it would go on believing they are stored)."""
    where = str(project_dir) if storage is None else getattr(storage, "location", storage.path)
    if storage is None:
        try:
            store = Store(project_dir / STORE_FILENAME)
        except StoreError:
            return  # damaged, foreign or newer: nobody searches it with this tunelab
        try:
            holders = live_holders(store)
        finally:
            store.close()
    else:
        holders = live_holders(storage)
    if holders:
        lease = holders[0]
        raise StoreError(
            f"overwrite=True: the project {where!r} is being searched by another "
            f"process (pid {lease.pid} on host {lease.host!r}; its lease runs "
            f"{max(0.0, lease.expires_at - time.time()):.0f} s more unless renewed), and "
            "overwriting would delete the trials it runs and records. Stop that process "
            "first (or wait until its search ends), choose another project_name, or leave "
            "overwrite=False to join its search."
        )


def lease_is_live(lease: Lease, now: float | None = None) -> bool:
    """Whether the process holding `lease` is alive as far as can be known: its lease has
    not expired and, in this node, its PID is alive. This process's own lease is live."""
    now = time.time() if now is None else now
    if lease.token == _TOKEN:
        return True
    if lease.expires_at < now:
        return False
    if lease.node != _NODE:
        return True
    if _pid_is_dead(lease.pid):
        return False
    started = _start_time(lease.pid)
    return lease.pid_start is None or started is None or started == lease.pid_start


def live_holders(storage: Storage, now: float | None = None) -> list[Lease]:
    """The leases of other processes that are live (see `lease_is_live`): processes that
    run trials in `storage`, or did within a lease period."""
    now = time.time() if now is None else now
    return [
        lease for lease in storage.leases() if lease.token != _TOKEN and lease_is_live(lease, now)
    ]


def current_lease(seconds: float, now: float | None = None) -> Lease:
    """This process's lease, valid `seconds` from `now`."""
    now = time.time() if now is None else now
    return Lease(_TOKEN, _HOST, os.getpid(), _NODE, now + seconds, _PID_START)


# ------------------------------------------------------------------------------------------
# The heartbeat
# ------------------------------------------------------------------------------------------
class _Held:
    """A study of this process that claims trials in a storage."""

    def __init__(self, storage: Storage, owner: Any, seconds: float) -> None:
        # Weak references: the heartbeat must not keep a finished search's store alive.
        self.storage = weakref.ref(storage)
        self.owner = weakref.ref(owner)
        self.seconds = seconds
        self.expires_at = 0.0

    def holding(self) -> bool:
        owner = self.owner()
        return owner is not None and bool(owner.running)


class _Heartbeat:
    """The daemon thread that renews this process's leases, one per store file: while a
    study of this process holds trials there, every ``lease / 6`` seconds; after two beats
    with none held, it gives the lease up (expired now), so that a process that finished
    its search but lives on does not look like a searching one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[tuple[int, int], _Held] = {}
        self.idle: dict[str, int] = {}
        self.thread: threading.Thread | None = None

    def hold(self, storage: Storage, owner: Any) -> None:
        now = time.time()
        key = (id(storage), id(owner))
        with self.lock:
            held = self.held.get(key)
            if held is None or held.storage() is not storage or held.owner() is not owner:
                held = self.held[key] = _Held(storage, owner, lease_seconds())
            # Renewed here only when the heartbeat has not done it for a while (the first
            # ask, or after a pause with no trial held): no write at most asks.
            stale = held.expires_at - now < held.seconds / 2
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="tunelab-lease", daemon=True)
                self.thread.start()
        if stale:
            lease = current_lease(held.seconds, now)
            storage.renew_lease(lease)
            held.expires_at = lease.expires_at
            self.idle[storage.path] = 0

    def _groups(self) -> dict[str, list[tuple[_Held, Storage]]]:
        """The live entries by store file (dead ones dropped)."""
        groups: dict[str, list[tuple[_Held, Storage]]] = {}
        with self.lock:
            for key, held in list(self.held.items()):
                storage = held.storage()
                if storage is None or held.owner() is None:
                    del self.held[key]
                    continue
                groups.setdefault(storage.path, []).append((held, storage))
        return groups

    def _run(self) -> None:
        while True:
            with self.lock:
                seconds = [h.seconds for h in self.held.values()]
            time.sleep(min(seconds, default=DEFAULT_LEASE_SECONDS) / 6)
            for path, members in self._groups().items():
                holding = [(h, s) for h, s in members if h.holding()]
                now = time.time()
                if holding:
                    held, storage = holding[0]
                    lease = current_lease(held.seconds, now)
                    self.idle[path] = 0
                else:
                    self.idle[path] = self.idle.get(path, 0) + 1
                    if self.idle[path] != 2:
                        continue
                    storage = members[0][1]
                    lease = current_lease(0.0, now)  # given up: expired from now on
                # A failed renewal (disk full, store closed) is retried at the next beat;
                # the lease is long enough to miss a few.
                with contextlib.suppress(Exception):
                    storage.renew_lease(lease)
                    for member, _ in members:
                        member.expires_at = lease.expires_at


_HEARTBEAT = _Heartbeat()


def hold(storage: Storage, owner: Any) -> None:
    """This process claims trials in `storage` for `owner` (a study): record its lease
    there (unless renewed lately) and keep it renewed from the heartbeat thread while
    ``owner.running`` holds trials. A store in memory needs no lease."""
    if storage.path != ":memory:":
        _HEARTBEAT.hold(storage, owner)


def _after_fork() -> None:
    # A forked child is another process: its own token, and no heartbeat (threads do not
    # survive a fork) until it claims trials itself.
    global _TOKEN, _HEARTBEAT, _NODE, _PID_START
    _TOKEN = uuid.uuid4().hex
    _NODE = _node()
    _PID_START = _start_time(os.getpid())
    _HEARTBEAT = _Heartbeat()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
