"""The PostgreSQL trial store: projects shared by processes on many hosts.

SQLite's locking is not safe on network file systems, so a study that independent jobs on
several hosts join (a job array, notebooks, CI runners) lives in a server database. This
store keeps every project of a database in four tables of the schema ``tunelab`` (``meta``,
``trials``, ``leases``, ``queue``), each row tagged with its project's name, and gives the
guarantees of `tunelab.storage.base` this way:

* Durability: each change is committed before the call (or the `transaction` block)
  returns, with the server's own durability (``synchronous_commit`` as configured). A
  block that holds the project's lock (below) commits without waiting for the disk, which
  releases the lock a flush earlier (an ask of another process waits for it no longer),
  then waits outside the lock: it writes an empty message (prefix ``tunelab``, seen only
  by logical decoding) in a transaction of its own, whose commit flushes the log up to and
  past the block's. A crash in between can lose only a block that has not returned, and
  with it anything another process based on it (written later in the same log).
* Concurrency: a `transaction` block first takes the project's advisory lock
  (``pg_advisory_xact_lock``), held until it commits: blocks of one project run one at a
  time, on any host, so "count the trials, then add one" is atomic and ``max_trials`` is
  exact. Single writes outside a block are single conditional statements (atomic on their
  own). Trial numbers and ids are also primary and unique keys.
* Leases: as in SQLite, one row per process in ``leases``, renewed by the heartbeat
  through a connection of its own (the pool holds a few).
* Disconnects: a call that finds its connection broken (a server restart, a network
  blip) is retried on a new one with a bounded back-off (``TUNELAB_PG_RETRY_SECONDS``,
  default 30 s), then fails with a `StoreError` naming the server. A `transaction` block
  whose connection breaks in its middle is rolled back by the server and fails at once
  (its body cannot be replayed); nothing of it was kept.
* Versions and safety: the schema version is stored in ``tunelab.version`` and a newer
  one is refused; values are JSON text written by this library, never pickle; rows are
  checked where they are read.

psycopg 3 is imported when a store is opened (``pip install 'psycopg[binary]>=3.1'``, or
``pip install './packages/core[postgres]'`` from a checkout); ``import tunelab`` does not
need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from tunelab.storage.base import Claim, Lease, Storage, StoredTrial, StoreError, dumps, loads
from tunelab.storage.pg_schema import (
    FORMAT,
    SCHEMA_VERSION,
    check_schema,
    create_schema,
    list_projects,
    project_names,
)
from tunelab.storage.pg_session import Session, redact, scrub
from tunelab.storage.sqlite import TRIAL_COLUMNS, _check_columns
from tunelab.trial import MetricsTracker, TrialStatus

__all__ = ["SCHEMA_VERSION", "PostgresStorage", "list_projects"]

_LEASE_PRUNE_AFTER = 7 * 24 * 3600.0

_SELECTED = ", ".join(TRIAL_COLUMNS)
# `PostgresStorage.change_token`: the server's snapshot and, unless it is the one given (the
# subqueries then do not run), the project's rows and the sum of their xmins.
_ROWS = "SELECT count(*) || '.' || coalesce(sum(xmin::text::bigint), 0) FROM tunelab.{}"
_TOKEN_SQL = (
    "WITH now AS (SELECT pg_current_snapshot()::text AS snapshot) SELECT snapshot, "
    f"CASE WHEN snapshot = %s THEN NULL ELSE ({_ROWS.format('trials')} WHERE project=%s) END, "
    f"CASE WHEN snapshot = %s THEN NULL ELSE ({_ROWS.format('meta')} WHERE project=%s) END "
    "FROM now"
)


def _text(value: str | None) -> str | None:
    """Text PostgreSQL accepts: it stores no NUL character and no lone surrogate (an
    error message may hold either); both are kept as visible escapes."""
    if value is None:
        return None
    value = value.replace("\x00", "\\x00")
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _lock_key(project: str) -> int:
    """The project's advisory-lock key: a signed 64-bit digest of its name."""
    digest = hashlib.blake2b(project.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStorage(Storage):
    """One project's trials in a PostgreSQL database (see the module docstring).

    Parameters
    ----------
    url : str
        A libpq connection URL, ``postgresql://user:password@host:5432/database``.
    project : str
        The project (study) inside the database; `project_name` of the tuner.
    read_only : bool
        Only read an existing project (`tunelab summary`): nothing is created or written;
        a database or project without tunelab's tables is refused with a `StoreError`, and
        so is every error of the server while reading.
    retry_seconds : float, optional
        How long a lost server is retried (default: ``TUNELAB_PG_RETRY_SECONDS`` or 30 s;
        the dashboard waits less, as a page that polls asks again a second later).
    """

    def __init__(
        self,
        url: str,
        project: str,
        read_only: bool = False,
        retry_seconds: float | None = None,
    ) -> None:
        self.url = url
        self.project = project
        self.read_only = read_only
        self.path = f"{redact(url)}#{project}"
        self.location = f"{redact(url)} (project {project!r})"
        self.existed = False
        self._parsed: dict[tuple[type, str], Any] = {}
        # The server's snapshot at the last `change_token`, and the token it gave.
        self._seen: tuple[str | None, str] = (None, "")
        self._db = Session(url, _lock_key(project), self.location, retry_seconds)
        try:
            if read_only:
                self._check_readable()
            else:
                self._db.call(create_schema)
                # Whether the project was there before (the tuner's overwrite=True then
                # deletes its trial folders too).
                self.existed = bool(self._db.call(self._project_exists))
                self._init_project()
        except BaseException:
            self._db.close()
            raise

    def _refuse_write(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location} was opened read-only; it is not written")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """Run the body in one transaction: committed when the block ends, rolled back
        when it raises; a block inside a block joins it. The project's lock is taken at
        the block's first read or insert (a trial's conditional update needs none, so
        that telling a result does not wait for another process's ask)."""
        self._refuse_write()
        with self._db.transaction() as conn:
            yield conn

    def _fetch(self, sql: str, args: Any = (), one: bool = False) -> Any:
        def action(conn: Any) -> Any:
            cursor = conn.execute(sql, args)
            return cursor.fetchone() if one else cursor.fetchall()

        return self._read(action)

    def _read(self, action: Callable[[Any], Any]) -> Any:
        """`action(conn)` through the session; a read-only store (a reader: the CLI, the
        dashboard) turns any error of the server into a `StoreError` saying so."""
        if not self.read_only:
            return self._db.call(action)
        try:
            return self._db.call(action)
        except self._db.psycopg.Error as error:
            raise StoreError(
                f"{self.location} cannot be read: {type(error).__name__}: "
                f"{scrub(str(error), self.url)}"
            ) from None

    def _run(self, sql: str, args: Any = (), lock: bool = True) -> int:
        """One write statement; the number of rows it changed."""
        self._refuse_write()
        return self._db.call(lambda conn: conn.execute(sql, args).rowcount, lock)

    def _atomic(self) -> contextlib.AbstractContextManager[Any]:
        self._refuse_write()
        return self._db.atomic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._db.close()

    # -- opening ------------------------------------------------------------------------
    def _check_readable(self) -> None:
        def action(conn: Any) -> None:
            check_schema(conn, self.url, must_exist=True)
            if not self._project_exists(conn):
                raise StoreError(
                    f"project {self.project!r} is not in {redact(self.url)}; expected one of "
                    f"{project_names(conn)} (--project / project_name)"
                )

        self._read(action)

    def _project_exists(self, conn: Any) -> bool:
        row = conn.execute(
            "SELECT 1 FROM tunelab.meta WHERE project=%s AND key='format'", (self.project,)
        ).fetchone()
        return row is not None

    def _init_project(self) -> None:
        with self.transaction() as conn:
            if not self._project_exists(conn):
                for key, value in (("format", FORMAT), ("created_at", time.time())):
                    conn.execute(
                        "INSERT INTO tunelab.meta VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        (self.project, key, dumps(value)),
                    )

    def clear(self) -> None:
        """Delete the project's trials, metadata, leases and queue (overwrite=True; the
        caller checked that no live process searches it)."""
        with self.transaction() as conn:
            for table in ("trials", "meta", "leases", "queue"):
                conn.execute(f"DELETE FROM tunelab.{table} WHERE project=%s", (self.project,))
        self._parsed.clear()
        self._init_project()

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._fetch(
            "SELECT value FROM tunelab.meta WHERE project=%s AND key=%s",
            (self.project, key),
            one=True,
        )
        return default if row is None else loads(row[0])

    def set_meta(self, key: str, value: Any, conn: Any = None) -> None:
        self._run(
            "INSERT INTO tunelab.meta (project, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (project, key) DO UPDATE SET value=excluded.value",
            (self.project, key, dumps(value)),
        )

    # -- rows <-> StoredTrial ---------------------------------------------------------------
    def _select(self, where: str = "TRUE", args: tuple = (), tail: str = "ORDER BY number") -> list:
        sql = f"SELECT {_SELECTED} FROM tunelab.trials WHERE project=%s AND ({where}) {tail}"
        rows = self._fetch(sql, (self.project, *args))
        return [self._stored(row) for row in rows]

    def _stored(self, row: tuple) -> StoredTrial:
        fields = dict(zip(TRIAL_COLUMNS, row, strict=True))
        text, metrics = fields.pop("hp_values"), fields.pop("metrics")
        try:
            _check_columns(fields)
            values = self._parse_once(text, dict)
            metrics_config = self._parse_once(metrics, MetricsTracker)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise StoreError(
                f"{self.location} is damaged: trial {fields['trial_id']!r} cannot be read "
                f"({type(error).__name__}: {error})"
            ) from error
        return StoredTrial(values=values, values_json=text, metrics_config=metrics_config, **fields)

    def _parse_once(self, text: str, kind: type) -> Any:
        """Parsed and checked once per distinct text (see the SQLite store's)."""
        value = self._parsed.get((kind, text))
        if value is None:
            value = loads(text)
            if not isinstance(value, dict):
                raise TypeError(f"{value!r:.40} is a {type(value).__name__}, not a dict")
            if kind is MetricsTracker:
                MetricsTracker.from_config(value)
            if len(self._parsed) > 200_000:
                self._parsed.clear()
            self._parsed[(kind, text)] = value
        return value

    # -- creating and claiming trials -----------------------------------------------------
    def next_number(self) -> int:
        row = self._fetch(
            "SELECT MAX(number) FROM tunelab.trials WHERE project=%s", (self.project,), one=True
        )
        return 0 if row[0] is None else row[0] + 1

    def create_trial(
        self, number: int, trial_id: str, values: dict[str, Any], value_hash: str, claim: Claim
    ) -> None:
        self._run(
            "INSERT INTO tunelab.trials (project, number, trial_id, status, hp_values, "
            "value_hash, owner_host, owner_pid, tuner_id, created_at, started_at, owner_token) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                self.project,
                number,
                trial_id,
                TrialStatus.RUNNING,
                dumps(values),
                value_hash,
                _text(claim.host),
                claim.pid,
                _text(claim.tuner_id),
                claim.started_at,
                claim.started_at,
                claim.token,
            ),
        )

    def claim(self, claim: Claim, abandoned: Callable[[StoredTrial], bool]) -> StoredTrial | None:
        with self._atomic():
            own = ""
            args: tuple[Any, ...] = (TrialStatus.RUNNING,)
            if claim.pid is not None:
                # Its own by lease token and PID (see the SQLite store's claim).
                own = " AND (owner_token IS DISTINCT FROM %s OR owner_pid IS DISTINCT FROM %s)"
                args = (*args, claim.token, claim.pid)
            first_idle = (
                "SELECT number FROM tunelab.trials WHERE project=%s AND status=%s "
                "ORDER BY number LIMIT 1"
            )
            rows = self._claimable(own, args, first_idle)
            leases = None
            found = None
            for trial in rows:
                if trial.status == TrialStatus.RUNNING and trial.owner_token is not None:
                    if leases is None:
                        leases = {lease.token: lease for lease in self.leases()}
                    trial.lease = leases.get(trial.owner_token)
                if not (trial.status == TrialStatus.IDLE or abandoned(trial)):
                    continue
                # A tell takes no project lock (see `transaction`): a trial whose row a
                # tell holds is being finished, and is skipped rather than waited for
                # (waiting could close a circle with that tell's later wait for the lock).
                held = self._fetch(
                    "SELECT 1 FROM tunelab.trials WHERE project=%s AND trial_id=%s AND "
                    "status=%s FOR UPDATE SKIP LOCKED",
                    (self.project, trial.trial_id, trial.status),
                    one=True,
                )
                if held is None:
                    continue
                changed = self._run(
                    "UPDATE tunelab.trials SET status=%s, owner_host=%s, owner_pid=%s, "
                    "tuner_id=%s, started_at=%s, metrics='{}', score=NULL, best_step=NULL, "
                    "owner_token=%s WHERE project=%s AND trial_id=%s AND status=%s",
                    (
                        TrialStatus.RUNNING,
                        _text(claim.host),
                        claim.pid,
                        _text(claim.tuner_id),
                        claim.started_at,
                        claim.token,
                        self.project,
                        trial.trial_id,
                        trial.status,
                    ),
                )
                if changed:
                    found = trial
                    break
            if found is None:
                return None
        found.status, found.owner_host, found.owner_pid = TrialStatus.RUNNING, claim.host, claim.pid
        found.tuner_id, found.started_at = claim.tuner_id, claim.started_at
        found.owner_token, found.lease = claim.token, None
        found.metrics_config, found.score, found.best_step = {}, None, None
        return found

    def _claimable(self, own: str, args: tuple, first_idle: str) -> list[StoredTrial]:
        """The RUNNING trials not the claimer's, then the IDLE trial with the lowest number."""
        sql = (
            f"SELECT {_SELECTED} FROM tunelab.trials WHERE project=%s AND "
            f"((status=%s{own}) OR number=({first_idle})) ORDER BY status=%s, number"
        )
        params = (self.project, *args, self.project, TrialStatus.IDLE, TrialStatus.IDLE)
        return [self._stored(row) for row in self._fetch(sql, params)]

    def renew_lease(self, lease: Lease) -> None:
        if self.read_only:
            return

        # The heartbeat's thread has no transaction open: this runs on a pooled connection
        # of its own, committed on return.
        def action(conn: Any) -> None:
            with conn.transaction():
                first = conn.execute(
                    "SELECT 1 FROM tunelab.leases WHERE project=%s AND token=%s",
                    (self.project, lease.token),
                ).fetchone()
                conn.execute(
                    "INSERT INTO tunelab.leases (project, token, host, pid, node, expires_at, "
                    "pid_start) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (project, token) "
                    "DO UPDATE SET expires_at=excluded.expires_at",
                    (
                        self.project,
                        lease.token,
                        _text(lease.host),
                        lease.pid,
                        _text(lease.node),
                        lease.expires_at,
                        lease.pid_start,
                    ),
                )
                if first is None:
                    conn.execute(
                        "DELETE FROM tunelab.leases WHERE project=%s AND expires_at<%s",
                        (self.project, lease.expires_at - _LEASE_PRUNE_AFTER),
                    )

        self._db.call(action, lock=False)

    def leases(self) -> list[Lease]:
        rows = self._fetch(
            "SELECT token, host, pid, node, expires_at, pid_start FROM tunelab.leases "
            "WHERE project=%s",
            (self.project,),
        )
        return [Lease(*row) for row in rows]

    def has_values(self, value_hash: str) -> bool:
        row = self._fetch(
            "SELECT 1 FROM tunelab.trials WHERE project=%s AND value_hash=%s LIMIT 1",
            (self.project, value_hash),
            one=True,
        )
        return row is not None

    # -- changing a trial ---------------------------------------------------------------------
    def _update(self, trial_id: str, fields: dict[str, Any], states: tuple[str, ...]) -> bool:
        sets = ", ".join(f"{c}=%s" for c in fields)
        marks = ", ".join(["%s"] * len(states))
        sql = (
            f"UPDATE tunelab.trials SET {sets} WHERE project=%s AND trial_id=%s "
            f"AND status IN ({marks})"
        )
        params = (*fields.values(), self.project, trial_id, *states)
        return self._run(sql, params, lock=False) == 1

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
        if super().finish(
            trial_id,
            status=status,
            values=values,
            value_hash=value_hash,
            metrics=metrics,
            score=score,
            best_step=best_step,
            message=_text(message),
            retries=retries,
            ended_at=ended_at,
        ):
            return True
        # A retried write whose first attempt committed before its connection broke finds
        # the trial already finished: by this very call if the end time is the one given.
        row = self._fetch(
            "SELECT status, ended_at FROM tunelab.trials WHERE project=%s AND trial_id=%s",
            (self.project, trial_id),
            one=True,
        )
        return row is not None and tuple(row) == (status, ended_at)

    def save_values(self, trial_id: str, values: dict[str, Any]) -> bool:
        with self._atomic() as conn:
            row = conn.execute(
                "SELECT hp_values FROM tunelab.trials WHERE project=%s AND trial_id=%s "
                "AND status=%s",
                (self.project, trial_id, TrialStatus.RUNNING),
            ).fetchone()
            if row is None:
                return False
            merged = {**loads(row[0]), **values}
            return self._update(trial_id, {"hp_values": dumps(merged)}, (TrialStatus.RUNNING,))

    def rescore(self, scores: list[tuple[str, float | None, int | None, str]]) -> None:
        with self._atomic() as conn, conn.cursor() as cursor:
            cursor.executemany(
                "UPDATE tunelab.trials SET score=%s, best_step=%s, status=%s "
                "WHERE project=%s AND trial_id=%s",
                [(s, step, st, self.project, tid) for tid, s, step, st in scores],
            )

    # -- reading trials -------------------------------------------------------------------
    def get_trial(self, trial_id: str) -> StoredTrial | None:
        found = self._select("trial_id=%s", (trial_id,))
        return found[0] if found else None

    def get_trials(self, states: tuple[str, ...] | None = None) -> list[StoredTrial]:
        if states is None:
            return self._select()
        return self._select("status = ANY(%s)", (list(states),))

    def best_trials(self, n: int, direction: str) -> list[StoredTrial]:
        # PostgreSQL sorts NaN above every number: a NaN score is never the best.
        order = "score DESC" if direction == "max" else "score ASC"
        return self._select(
            "status=%s AND score IS NOT NULL AND score <> 'NaN'",
            (TrialStatus.COMPLETED,),
            f"ORDER BY {order}, number LIMIT {int(n)}",
        )

    def last_ended(self, n: int) -> list[tuple[str, str, str | None, float]]:
        rows = self._fetch(
            "SELECT trial_id, status, message, ended_at FROM tunelab.trials WHERE project=%s "
            "AND status = ANY(%s) AND ended_at IS NOT NULL ORDER BY ended_at DESC, number DESC "
            "LIMIT %s",
            (self.project, list(TrialStatus.FINISHED), int(n)),
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def count_by_status(self) -> dict[str, int]:
        rows = self._fetch(
            "SELECT status, COUNT(*) FROM tunelab.trials WHERE project=%s GROUP BY status",
            (self.project,),
        )
        return {status: int(n) for status, n in rows}

    def change_token(self) -> str:
        # One statement, so one snapshot. The server's snapshot (which transactions count as
        # committed) moves with every write committed anywhere on the server: while it stays
        # as it was, nothing changed and no row is read. When it moves, the project's own
        # rows tell: a row's xmin names the transaction that wrote its current version, so
        # the count and the sum of the xmins of the project's trials and metadata move with
        # each of its inserts and updates, and with nothing else (another project, a lease).
        seen, token = self._seen
        row = self._fetch(_TOKEN_SQL, (seen, self.project, seen, self.project), one=True)
        if row[1] is not None:
            token = f"{row[1]}-{row[2]}"
            self._seen = (row[0], token)
        return token

    # -- queue of enqueued configurations ---------------------------------------------------
    def enqueue(self, values: dict[str, Any], value_hash: str, skip_if_exists: bool = True) -> bool:
        with self._atomic() as conn:
            if skip_if_exists:
                queued = conn.execute(
                    "SELECT 1 FROM tunelab.queue WHERE project=%s AND value_hash=%s",
                    (self.project, value_hash),
                ).fetchone()
                if queued is not None or self.has_values(value_hash):
                    return False
            conn.execute(
                "INSERT INTO tunelab.queue (project, hp_values, value_hash) VALUES (%s, %s, %s)",
                (self.project, dumps(values), value_hash),
            )
            return True

    def pop_queue(self) -> dict[str, Any] | None:
        with self._atomic() as conn:
            row = conn.execute(
                "DELETE FROM tunelab.queue WHERE id=(SELECT id FROM tunelab.queue WHERE "
                "project=%s ORDER BY id LIMIT 1) RETURNING hp_values",
                (self.project,),
            ).fetchone()
            return None if row is None else loads(row[0])

    def queue_length(self) -> int:
        row = self._fetch(
            "SELECT COUNT(*) FROM tunelab.queue WHERE project=%s", (self.project,), one=True
        )
        return int(row[0])
