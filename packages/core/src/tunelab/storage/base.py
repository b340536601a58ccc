"""The storage interface: what the rest of tunelab may ask of a trial store.

A storage keeps one project's trials, its metadata (search space, objective, settings of
the search) and its queue of enqueued configurations. The study (`tunelab.study`) is its
only writer of trials; readers (results, plots, the CLI) use the same methods. Everything
crosses this interface in trial terms (`StoredTrial`, dicts of values, `MetricsTracker`),
never as rows or SQL, so a second implementation (a server database) replaces the SQLite
one (`tunelab.storage.sqlite.SQLiteStorage`) without touching anything else.

Guarantees every implementation gives
-------------------------------------
* Durability: a method that changes something has committed the change when it returns
  (or when the enclosing `transaction` block ends). A killed process loses nothing that
  was committed.
* Atomicity across processes: the calls made inside one ``with storage.transaction():``
  block are one unit. No other process (or thread with its own storage) sees part of it,
  and no other writer runs between its reads and its writes: "count the trials, then add
  one" cannot be interleaved, so trial numbers are unique and ``max_trials`` is exact
  however many processes share the project. Outside a block, each writing call is its
  own transaction, and a block inside a block joins the outer one.
* Who changes a trial: `report` changes only a RUNNING trial; `finish` only a RUNNING or
  IDLE one; `release` only a RUNNING one. Each returns False (and changes nothing) when
  the trial is not in such a state, so a late writer cannot overwrite a finished trial.
* Leases: a trial claimed by a process (`Claim.token`) is held under that process's lease
  (`Lease`), which the process renews while it runs trials (`renew_lease`). A RUNNING trial
  whose owner's lease has expired is abandoned and runs again (see `tunelab.ownership`).
  A storage without leases (`renew_lease` does nothing, `leases` is empty) still works:
  trials are then taken back only from owners known to be dead on the same host.
* Safety: values are JSON (numbers, strings, booleans, lists, dicts); nothing is pickled,
  and opening a store never runs stored code. A store that is not a tunelab store, is
  damaged, or was written by a newer schema is refused with a `StoreError`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tunelab.hyperparameters import HyperParameters
from tunelab.trial import MetricsTracker, Trial, TrialStatus

__all__ = ["Claim", "Lease", "Storage", "StoreError", "StoredTrial", "dumps", "loads"]


# The default `Storage.change_token` (a storage that cannot tell): a new text at every call.
_UNKNOWN = itertools.count()


class StoreError(RuntimeError):
    """The store cannot be used (foreign, damaged or from a newer version), or refused a
    write (disk full, read-only)."""


# Raised to users as tunelab.store.StoreError (its historical, documented home).
StoreError.__module__ = "tunelab.store"


def _json_safe(value: Any) -> Any:
    """Non-finite floats become strings so the text stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """`value` as compact, standard JSON text (non-finite floats as strings)."""
    return json.dumps(_json_safe(value), sort_keys=False, separators=(",", ":"))


def loads(text: str) -> Any:
    """The value of JSON `text`; ValueError for text that is not JSON or nests so deeply
    that the parser would exhaust the stack (only a foreign writer makes either)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested too deeply ({len(text)} characters)") from None


@dataclass
class Claim:
    """Who runs a trial handed out by `Storage.create_trial` or `Storage.claim`: the host
    and process (None for a detached trial, which nobody's death abandons), the tuner,
    when it started, and the token of the claiming process's `Lease` (None: no lease)."""

    host: str | None
    pid: int | None
    tuner_id: str | None
    started_at: float
    token: str | None = None


@dataclass
class Lease:
    """A process's hold on the trials it claimed: valid until `expires_at` (seconds since
    the epoch, this host's clock), renewed by the process while it runs trials.

    `token` is unique to one process's lifetime. `node` names where `pid` means something
    (host, boot and PID namespace), and `pid_start` when that process started (clock ticks
    since boot; None if unknown): there, a process can tell whether the owner is alive,
    whatever its lease says."""

    token: str
    host: str
    pid: int
    node: str
    expires_at: float
    pid_start: int | None = None


@dataclass
class StoredTrial:
    """One trial as stored. `values` are the trial's active hyperparameter values; callers
    must not change the dict (a storage may share it between reads of an unchanged trial).
    `values_json` is their canonical JSON text: equal texts, equal values (a cache key)."""

    number: int
    trial_id: str
    status: str
    values: dict[str, Any]
    values_json: str
    value_hash: str
    score: float | None = None
    best_step: int | None = None
    message: str | None = None
    retries: int = 0
    owner_host: str | None = None
    owner_pid: int | None = None
    tuner_id: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    metrics_config: dict[str, Any] = field(default_factory=dict)
    owner_token: str | None = None
    # The owner's lease, read by `Storage.claim` for the RUNNING trials it considers.
    lease: Lease | None = None

    @property
    def metrics(self) -> MetricsTracker:
        """The reported metrics (a new tracker at each read)."""
        return MetricsTracker.from_config(self.metrics_config)

    def to_trial(self, space: HyperParameters | None = None) -> Trial:
        """A `Trial` with these values over `space` (a copy is taken; None: no space)."""
        hp = HyperParameters() if space is None else space.copy()
        hp.values = dict(self.values)
        trial = Trial(hp, trial_id=self.trial_id, status=self.status, message=self.message)
        trial.number = self.number
        trial.metrics = self.metrics
        trial.score, trial.best_step, trial.retries = self.score, self.best_step, self.retries
        trial.started_at, trial.ended_at = self.started_at, self.ended_at
        return trial


class Storage:
    """Base class of trial stores (see the module docstring for the guarantees).

    Attributes
    ----------
    path : str
        Where the store lives, for messages (a file, a URL, ``":memory:"``).
    """

    path: str = ""

    # -- grouping and lifetime ------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """Make the calls inside the block one atomic unit (see the guarantees): committed
        together when the block ends, rolled back together when it raises."""
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        """Release the connection; the storage is not used afterwards."""

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under `key`, or `default`."""
        raise NotImplementedError

    def set_meta(self, key: str, value: Any, conn: Any = None) -> None:
        """Store `value` (JSON) under `key`, replacing what was there. (`conn` is ignored:
        inside a `transaction` block the write joins it.)"""
        raise NotImplementedError

    # -- creating and claiming trials -----------------------------------------------------
    def next_number(self) -> int:
        """The number the next created trial gets: trials are numbered 0, 1, 2, ... and never
        deleted. Call it inside the `transaction` that creates the trial."""
        raise NotImplementedError

    def create_trial(
        self, number: int, trial_id: str, values: dict[str, Any], value_hash: str, claim: Claim
    ) -> None:
        """Add trial `number`, RUNNING and claimed by `claim`. Unique numbers and ids are the
        caller's (inside one `transaction` with `next_number`); a duplicate raises."""
        raise NotImplementedError

    def claim(self, claim: Claim, abandoned: Callable[[StoredTrial], bool]) -> StoredTrial | None:
        """Hand out a trial that must run again, or None: first a RUNNING trial for which
        `abandoned(trial)` is true (its owner is gone), else the IDLE trial with the lowest
        number. The claimed trial becomes RUNNING under `claim` and starts from scratch: its
        metrics, score and best step are cleared. Returns it as it is stored afterwards."""
        raise NotImplementedError

    def renew_lease(self, lease: Lease) -> None:
        """Record `lease`, or extend it to its new `expires_at`, committed on return. The
        heartbeat calls it from its own thread while the storage's user works: an
        implementation must allow that (the SQLite one renews through a connection of its
        own). The default does nothing: a storage without leases."""

    def leases(self) -> list[Lease]:
        """Every lease recorded (expired ones included, until they are pruned)."""
        return []

    def has_values(self, value_hash: str) -> bool:
        """Whether a trial (in any state) has the configuration whose hash is `value_hash`."""
        raise NotImplementedError

    # -- changing a trial ---------------------------------------------------------------------
    def _update(self, trial_id: str, fields: dict[str, Any], states: tuple[str, ...]) -> bool:
        """Set the columns `fields` of the trial if its status is one of `states`, in one
        statement; True when it changed. The SQL stores implement the methods below
        through it; another storage may implement them directly instead."""
        raise NotImplementedError

    def report(self, trial_id: str, metrics: MetricsTracker) -> bool:
        """Replace a RUNNING trial's metrics; False (nothing changed) if it is not RUNNING."""
        fields = {"metrics": dumps(metrics.get_config())}
        return self._update(trial_id, fields, (TrialStatus.RUNNING,))

    def finish(
        self,
        trial_id: str,
        *,
        status: str,
        values: dict[str, Any],
        value_hash: str,
        metrics: MetricsTracker,
        score: float | None,
        best_step: int | None,
        message: str | None,
        retries: int,
        ended_at: float,
    ) -> bool:
        """Record the end of a RUNNING or IDLE trial (status IDLE: it runs again later).
        False, and nothing changed, when the trial has already finished."""
        fields = {
            "hp_values": dumps(values),
            "value_hash": value_hash,
            "status": status,
            "metrics": dumps(metrics.get_config()),
            "score": score,
            "best_step": best_step,
            "message": message,
            "ended_at": ended_at,
            "retries": retries,
        }
        return self._update(trial_id, fields, (TrialStatus.RUNNING, TrialStatus.IDLE))

    def save_values(self, trial_id: str, values: dict[str, Any]) -> bool:
        """Add `values` to a RUNNING trial's values as they are suggested (define-by-run),
        so that a result told from another process keeps them; False if it is not RUNNING.
        The default keeps nothing (the values then come with `finish`)."""
        return False

    def release(self, trial_id: str) -> bool:
        """Put a RUNNING trial back to IDLE (it runs again); False if it was not RUNNING."""
        return self._update(trial_id, {"status": TrialStatus.IDLE}, (TrialStatus.RUNNING,))

    def rescore(self, scores: list[tuple[str, float | None, int | None, str]]) -> None:
        """Set ``(trial_id, score, best_step, status)`` of finished trials (the objective
        changed between two runs of a project)."""
        raise NotImplementedError

    # -- reading trials -------------------------------------------------------------------
    def get_trial(self, trial_id: str) -> StoredTrial | None:
        """The trial with this id, or None."""
        raise NotImplementedError

    def get_trials(self, states: tuple[str, ...] | None = None) -> list[StoredTrial]:
        """Every trial (or those in `states`), by number."""
        raise NotImplementedError

    def best_trials(self, n: int, direction: str) -> list[StoredTrial]:
        """The `n` COMPLETED trials with the best score ("max" or "min"), best first; ties
        by number."""
        raise NotImplementedError

    def last_ended(self, n: int) -> list[tuple[str, str, str | None, float]]:
        """``(trial_id, status, message, ended_at)`` of the `n` trials that finished last
        (COMPLETED, STOPPED, FAILED or INVALID), by end time, the latest first. Cheap: the
        study reads it at every ask to count failures in a row."""
        trials = [t for t in self.get_trials(tuple(TrialStatus.FINISHED)) if t.ended_at]
        trials.sort(key=lambda t: (t.ended_at, t.number), reverse=True)
        return [(t.trial_id, t.status, t.message, t.ended_at) for t in trials[:n]]  # type: ignore[misc]

    def count_by_status(self) -> dict[str, int]:
        """How many trials are in each state (states with none are left out)."""
        raise NotImplementedError

    def change_token(self) -> str:
        """A short text that changes whenever the project's trials or metadata may have
        changed: two equal tokens, nothing a reader sees changed between them. Read it
        before the data it stands for (a change made meanwhile then shows in the next
        token). Cheap (no trial is read), for readers that poll: the dashboard asks it every
        second and reads nothing more while it stays the same. The default cannot tell and
        gives a new text at every call."""
        return f"unknown-{next(_UNKNOWN)}"

    # -- the queue of enqueued configurations -----------------------------------------------
    def enqueue(self, values: dict[str, Any], value_hash: str, skip_if_exists: bool = True) -> bool:
        """Queue `values` to run before new proposals. With `skip_if_exists`, values already
        queued or tried are not queued again (returns False)."""
        raise NotImplementedError

    def pop_queue(self) -> dict[str, Any] | None:
        """Take the oldest queued configuration off the queue (None when it is empty). Call
        it inside the `transaction` that creates the trial, so that a failed ask keeps it."""
        raise NotImplementedError

    def queue_length(self) -> int:
        """How many configurations are queued."""
        raise NotImplementedError
