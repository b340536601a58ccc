"""The SQLite trial store: one file per project, the embedded default `Storage`.

This module holds every line of SQL in tunelab and every mapping between a row and a
`StoredTrial`. It gives the guarantees of `tunelab.storage.base` this way:

* Durability: each change is committed before the call (or the `transaction` block)
  returns. The file is in WAL mode with ``synchronous=NORMAL``: a killed process (SIGKILL,
  a crash) loses nothing committed; only a power cut of the whole machine can lose the last
  transactions.
* Concurrency: several processes (and threads, each with its own `Store`) may open one
  file. Writers take the lock up front (``BEGIN IMMEDIATE``), so a `transaction` block is
  atomic across processes. A busy file is waited for (a long timeout and retries), so
  "database is locked" does not reach the user. SQLite's locking is not safe on network
  file systems: a project shared across hosts needs a server store.
* Leases: each process that claims trials records a row in ``leases`` (its token, host,
  PID, node and expiry) and renews it from its heartbeat through a connection of its own;
  a trial names its owner's lease by ``owner_token``. One lease row per process, not per
  trial: renewing costs one small write per heartbeat, however many trials run.
* Versions: schema 2 added the leases (the ``leases`` table and ``trials.owner_token``) and
  an index on end times. A schema-1 store is migrated in place when it is opened for
  writing, in one transaction; its trials keep every value.
* Safety: values are JSON text, never pickle. A file that is not a tunelab store is
  refused, never overwritten; a store written by a newer schema version is refused.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tunelab.storage.base import Claim, Lease, Storage, StoredTrial, StoreError, dumps, loads
from tunelab.trial import MetricsTracker, TrialStatus

__all__ = ["SCHEMA_VERSION", "STORE_FILENAME", "Store", "file_token", "project_path"]

SCHEMA_VERSION = 2
STORE_FILENAME = "tunelab.sqlite"
_FORMAT = "tunelab-store"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY,
    trial_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    hp_values TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    score REAL,
    best_step INTEGER,
    message TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    owner_host TEXT,
    owner_pid INTEGER,
    tuner_id TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    owner_token TEXT
);
CREATE INDEX IF NOT EXISTS trials_by_hash ON trials (value_hash);
CREATE INDEX IF NOT EXISTS trials_by_status ON trials (status, number);
CREATE INDEX IF NOT EXISTS trials_by_score ON trials (status, score);
CREATE INDEX IF NOT EXISTS trials_by_end ON trials (ended_at, number);
CREATE TABLE IF NOT EXISTS leases (
    token TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    node TEXT NOT NULL,
    expires_at REAL NOT NULL,
    pid_start INTEGER
);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hp_values TEXT NOT NULL,
    value_hash TEXT NOT NULL
);
"""

TRIAL_COLUMNS = (
    "number",
    "trial_id",
    "status",
    "hp_values",
    "value_hash",
    "metrics",
    "score",
    "best_step",
    "message",
    "retries",
    "owner_host",
    "owner_pid",
    "tuner_id",
    "created_at",
    "started_at",
    "ended_at",
    "owner_token",
)
# The columns a schema-1 store has (it lacks owner_token); it is migrated when opened.
_V1_TRIAL_COLUMNS = TRIAL_COLUMNS[:-1]
# Leases that expired this long ago are deleted when a process records its own.
_LEASE_PRUNE_AFTER = 7 * 24 * 3600.0


def _parse(text: Any) -> Any:
    """A meta value, or None when it is not JSON text."""
    try:
        return loads(text)
    except (TypeError, ValueError):
        return None


def project_path(directory: str | os.PathLike | None, project_name: str | None) -> Path:
    """`directory/project_name`, refusing names that would escape `directory`."""
    directory = "." if directory is None else directory
    project_name = "untitled_project" if project_name is None else project_name
    if not isinstance(project_name, str):
        raise TypeError(f"project_name={project_name!r}: expected a string")
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory={directory!r}: expected a path")
    if "\x00" in str(directory):
        raise ValueError(f"directory={directory!r}: contains a NUL character")
    problem = None
    if not project_name or project_name in (".", ".."):
        problem = "it is empty or a relative reference ('.' or '..')"
    elif "\x00" in project_name:
        problem = "it contains a NUL character"
    elif "/" in project_name or "\\" in project_name or os.path.isabs(project_name):
        problem = "it contains a path separator or is an absolute path"
    elif len(project_name.encode("utf-8", "surrogatepass")) > 200:
        problem = "it is longer than 200 bytes"
    if problem:
        raise ValueError(
            f"project_name={project_name!r} is not allowed: {problem}; expected a plain folder "
            "name inside `directory`"
        )
    return Path(directory) / project_name


# What each column of a row may hold. SQLite keeps whatever a foreign writer put in a
# column ('abc' in a REAL one), and a value of the wrong type would surface far away as an
# internal TypeError (sorting scores, computing durations): a row is checked where it is read.
_COLUMN_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int,),
    "trial_id": (str,),
    "status": (str,),
    "value_hash": (str,),
    "score": (float, int),
    "best_step": (int,),
    "message": (str,),
    "retries": (int,),
    "owner_host": (str,),
    "owner_pid": (int,),
    "tuner_id": (str,),
    "created_at": (float, int),
    "started_at": (float, int),
    "ended_at": (float, int),
}
_REQUIRED = ("number", "trial_id", "status", "value_hash", "retries")


def _check_columns(fields: dict[str, Any]) -> None:
    """Refuse a row whose columns hold what this library never writes (ValueError)."""
    for name, kinds in _COLUMN_TYPES.items():
        value = fields.get(name)
        if value is None and name not in _REQUIRED:
            continue
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(f"column {name} holds {value!r}; expected {kinds[0].__name__}")
        if name.endswith("_at") and value is not None and not math.isfinite(value):
            raise ValueError(f"column {name} holds {value!r}; expected a time in seconds")
    # A trial id names the trial's folder (checkpoints, model files): one that is not a
    # plain folder name would make a backend write or load outside the project.
    trial_id = fields["trial_id"]
    if (
        not trial_id
        or trial_id in (".", "..")
        or any(c in trial_id for c in "/\\\x00")
        or len(trial_id) > 200
    ):
        raise ValueError(f"trial_id {trial_id!r} is not a plain folder name")


_EMPTY_GRACE_S = 10.0


def _read_only_uri(path: Path) -> str:
    """The URI that reads `path` without writing. On a read-only file system SQLite cannot
    create the WAL's shared-memory file that a plain read-only open needs; there nobody
    can be writing the store either, so it is opened as immutable."""
    if os.access(path.parent, os.W_OK):
        return f"file:{path}?mode=ro"
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # Committed trials may still be in the WAL, which an immutable open ignores: read
        # it the normal way (SQLite manages when the -shm file exists).
        return f"file:{path}?mode=ro"
    return f"file:{path}?mode=ro&immutable=1"


def file_token(path: str | os.PathLike) -> str:
    """The change token of the store file at `path` (`Store.change_token`), without
    opening it. Every commit writes the file or its write-ahead log (``-wal``), so their
    inode, size and modification time (nanoseconds) together move with every change: a
    stat costs microseconds and no query is made. An empty WAL counts as none (a reader's
    opening may create one, which changes nothing)."""
    parts = []
    for wal, file in enumerate((Path(path), Path(f"{path}-wal"))):
        try:
            s = file.stat()
        except FileNotFoundError:
            s = None
        if s is None or (s.st_size == 0 and wal):
            parts.append("-")
            continue
        parts.append(f"{s.st_ino:x}.{s.st_size:x}.{s.st_mtime_ns:x}")
    return "-".join(parts)


def _make_folder(folder: Path) -> None:
    """Create the project folder, with a clear error for a link that leads nowhere."""
    if folder.is_symlink() and not folder.exists():
        raise StoreError(
            f"the project folder {folder} is a symbolic link to {os.readlink(folder)!r}, which "
            "does not exist; create the link's target or remove the link"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(
            f"the project folder {folder} cannot be created: a file of that name is in the "
            "way; remove it or choose another directory or project_name"
        ) from None


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _needs_recovery(error: sqlite3.OperationalError) -> bool:
    """A read-only connection met a crashed writer's journal (or WAL) that it cannot undo."""
    name = getattr(error, "sqlite_errorname", "")  # Python 3.11+
    if name:
        return name in ("SQLITE_READONLY_ROLLBACK", "SQLITE_READONLY_RECOVERY")
    return "readonly" in str(error).lower()


def _is_write_failure(error: sqlite3.OperationalError) -> bool:
    """A disk that refuses the write (full, read-only, I/O error), not a bug in a query."""
    name = getattr(error, "sqlite_errorname", "")  # Python 3.11+
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY")):
        return True
    text = str(error).lower()
    return any(word in text for word in ("disk", "full", "i/o error", "readonly"))


class Store(Storage):
    """A project's SQLite trial store (see the module docstring for its guarantees).

    Parameters
    ----------
    path : str or Path
        The SQLite file, or ``":memory:"`` for a store that lives only in this process.
    overwrite : bool
        Start clean: remove an existing tunelab store at `path` first.
    read_only : bool
        Only read an existing store (`tunelab summary`, `load_results`): nothing is created
        or written, and a store on a read-only file system opens too.
    """

    def __init__(
        self, path: str | os.PathLike, overwrite: bool = False, read_only: bool = False
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._parsed: dict[tuple[type, str], Any] = {}
        # A configuration found absent inside the open write transaction, with what makes
        # that answer last: no other process writes while this one holds the lock, and this
        # connection's own writes move `total_changes` (see `has_values`).
        self._transactions = 0
        self._absent: tuple[int, int, str] | None = None
        self.memory = self.path == ":memory:"
        if read_only and (self.memory or not Path(self.path).is_file()):
            raise StoreError(f"{self.path} does not exist; there is no store to read")
        # The heartbeat's own connection (`renew_lease`), opened at its first renewal.
        self._lease_conn: sqlite3.Connection | None = None
        self._lease_lock = threading.Lock()
        if not self.memory:
            self._check_existing(Path(self.path), overwrite and not read_only)
            if not read_only:
                _make_folder(Path(self.path).parent)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as error:
            if not read_only and not os.access(Path(self.path).parent, os.W_OK):
                raise StoreError(
                    f"{self.path} cannot be written: its folder is read-only ({error}). "
                    "A search needs a writable directory; `tunelab summary` and "
                    "`load_results` can still read the store there"
                ) from None
            raise StoreError(f"{self.path} cannot be used as a tunelab store: {error}") from None
        # The columns read for a trial. A store of an older schema opened read-only is not
        # migrated (nothing is written): what it lacks reads as NULL.
        self._selected = ", ".join(TRIAL_COLUMNS)
        if not read_only:
            self._init_schema()
        else:
            found = {row[1] for row in self._conn.execute("PRAGMA table_info(trials)")}
            self._selected = ", ".join(c if c in found else f"NULL AS {c}" for c in TRIAL_COLUMNS)

    # -- opening ------------------------------------------------------------------------
    @staticmethod
    def _check_existing(path: Path, overwrite: bool) -> None:
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a tunelab store file")
        if not path.exists():
            return
        with open(path, "rb") as handle:
            header = handle.read(16)
        if path.stat().st_size == 0:
            header = b""
            # SQLite writes the first page within milliseconds of creating the file: an
            # empty file older than that is a store that was truncated (its trials are
            # gone) or whose creator died at once. Say so rather than start over in it.
            age = time.time() - path.stat().st_mtime
            if age > _EMPTY_GRACE_S and not overwrite:
                raise StoreError(
                    f"{path} is empty (0 bytes, last changed {age:.0f} s ago): the store was "
                    "truncated or its creator was killed at once, and it holds no trials. "
                    "Restore it from a backup, or pass overwrite=True (or remove the file) "
                    "to start this project again"
                )
        magic = b"SQLite format 3\x00"
        if len(header) < len(magic) and magic.startswith(header):
            header = b""  # another process is writing the first page right now
        if header and header != magic:
            raise StoreError(
                f"{path} exists and is not a tunelab store (not an SQLite file); "
                "refusing to use or overwrite it: choose another directory or project_name"
            )
        if header:
            try:
                kind, problem = Store._retry(lambda: Store._inspect(path))
            except sqlite3.DatabaseError as error:
                if "malformed" in str(error) or "corrupt" in str(error):
                    raise StoreError(
                        f"{path} is damaged (SQLite says: {error}); it was probably truncated "
                        "or partly overwritten. It was left as it is: restore it from a "
                        "backup, or save what can be read with `sqlite3 FILE .recover | "
                        "sqlite3 NEW_FILE` and open NEW_FILE"
                    ) from None
                raise StoreError(
                    f"{path} is an SQLite file but not a tunelab store ({error}); refusing to "
                    "use or overwrite it"
                ) from None
            if kind not in (_FORMAT, "new"):
                raise StoreError(
                    f"{path} is an SQLite file but not a tunelab store; refusing to use or "
                    "overwrite it"
                )
            if problem and not overwrite:
                raise StoreError(f"{path} {problem}; it was left as it is")
        if overwrite:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{path}{suffix}")

    @staticmethod
    def _inspect(path: Path) -> tuple[Any, str | None]:
        """The store's format tag ("new" for an SQLite file with no tables yet: another process
        is creating it, tables and tag in one transaction) and why this version cannot use
        it, or None. Read-only: a file that is refused keeps its committed content.

        One exception to read-only: a process killed inside a write transaction leaves a hot
        rollback journal (or a WAL whose index must be rebuilt) that a read-only connection
        cannot undo (SQLITE_READONLY_ROLLBACK / _RECOVERY). Then the file is opened for
        writing only so that SQLite's own crash recovery restores its last committed state;
        nothing else is written.
        """
        try:
            return Store._inspect_at(_read_only_uri(path))
        except sqlite3.OperationalError as error:
            if not _needs_recovery(error):
                raise
        return Store._inspect_at(f"file:{path}?mode=rw")

    @staticmethod
    def _inspect_at(uri: str) -> tuple[Any, str | None]:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            return Store._inspect_open(conn)
        except UnicodeDecodeError as error:  # text that is not UTF-8: not a store we wrote
            return None, f"is damaged ({error})"
        finally:
            conn.close()

    @staticmethod
    def _inspect_open(conn: sqlite3.Connection) -> tuple[Any, str | None]:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            return "new", None
        if "meta" not in tables:
            return None, None
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        kind, version = _parse(meta.get("format")), _parse(meta.get("schema_version"))
        if kind != _FORMAT:
            return kind, None
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            return kind, f"is damaged: its schema version {version!r} is not an integer >= 1"
        if version > SCHEMA_VERSION:
            return kind, (
                f"was written by a newer tunelab (store schema version {version!r}; this "
                f"tunelab reads up to {SCHEMA_VERSION}): upgrade tunelab to open it"
            )
        trial_columns = TRIAL_COLUMNS if version >= 2 else _V1_TRIAL_COLUMNS
        for table, columns in (("trials", trial_columns), ("queue", ("hp_values",))):
            found = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not set(columns) <= found:
                return kind, f"is damaged: its {table!r} table lacks tunelab's columns"
        # The full check (not quick_check): a damaged index hides trials from queries.
        check = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
        if check != "ok":
            return kind, f"is damaged (SQLite's check says: {check})"
        return kind, None

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            conn = sqlite3.connect(
                _read_only_uri(Path(self.path)),
                uri=True,
                timeout=60,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA busy_timeout=60000")
            return conn
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        if not self.memory:
            self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=60000")
        return conn

    def _init_schema(self) -> None:
        try:
            with self.transaction() as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('format', ?)", (dumps(_FORMAT),))
                    conn.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?)", (dumps(SCHEMA_VERSION),)
                    )
                    conn.execute("INSERT INTO meta VALUES ('created_at', ?)", (dumps(time.time()),))
                self._migrate(conn)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} cannot be used as a tunelab store: {error}") from None
        version = self.get_meta("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer tunelab (store schema version {version!r}; "
                f"this tunelab reads up to {SCHEMA_VERSION}): upgrade tunelab to open it"
            )

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Bring a schema-1 store to this version, inside the opening transaction (the
        leases table and index come from `_SCHEMA`, which creates what is missing)."""
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = None if row is None else _parse(row[0])
        if version != 1:
            return  # current, or refused below (damaged or newer)
        found = {r[1] for r in conn.execute("PRAGMA table_info(trials)")}
        if "owner_token" not in found:
            conn.execute("ALTER TABLE trials ADD COLUMN owner_token TEXT")
        # Trials left RUNNING by a tunelab without leases: owned under a lease never
        # recorded, so that they run again one lease period after their start.
        conn.execute(
            "UPDATE trials SET owner_token='schema-1' WHERE status=? AND owner_pid IS NOT NULL "
            "AND owner_token IS NULL",
            (TrialStatus.RUNNING,),
        )
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (dumps(SCHEMA_VERSION),))

    @staticmethod
    def _retry(action: Any, attempts: int = 50) -> Any:
        for attempt in range(attempts):
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or attempt == attempts - 1:
                    raise
                time.sleep(min(0.5, 0.005 * 2**attempt) * (0.5 + random.random()))
        return None  # pragma: no cover

    # -- the one transaction helper -------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the body in one write transaction: commit on success, roll back on error. A
        block opened inside another joins it (commits with it)."""
        conn = self._conn
        if conn.in_transaction:
            yield conn
            return
        try:
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        except sqlite3.OperationalError as error:
            raise self._write_error(error) from error
        self._transactions += 1
        try:
            yield conn
            self._retry(lambda: conn.execute("COMMIT"))
        except BaseException as error:
            # A failed COMMIT may already have rolled back: then there is nothing to undo.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError) and _is_write_failure(error):
                raise self._write_error(error) from error
            raise

    def _atomic(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """The open transaction, joined directly, or a new one: a block inside a block
        does not count as a transaction of its own (nor pay for BEGIN and COMMIT)."""
        if self._conn.in_transaction:
            return contextlib.nullcontext(self._conn)
        return self.transaction()

    def _write(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        """One statement, inside the open transaction or in its own."""
        with self._atomic() as conn:
            return conn.execute(sql, args)

    def _write_error(self, error: sqlite3.Error) -> StoreError:
        """A write the disk refused (full, read-only, I/O error) as a clear StoreError."""
        return StoreError(
            f"could not write the trial store {self.path}: {error}. Nothing of this change "
            "was kept and every trial stored before is intact; free disk space (or fix the "
            "file's permissions) and run the same search again to resume."
        )

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        with self._lease_lock:
            if self._lease_conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._lease_conn.close()
                self._lease_conn = None

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else loads(row[0])

    def set_meta(self, key: str, value: Any, conn: Any = None) -> None:
        # One statement: SQLite's autocommit makes it atomic and durable on its own.
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, dumps(value)),
        )

    # -- rows <-> StoredTrial ---------------------------------------------------------------
    def _select(self, where: str = "1", args: tuple = (), tail: str = "ORDER BY number") -> list:
        sql = f"SELECT {self._selected} FROM trials WHERE {where} {tail}"
        try:
            rows = self._conn.execute(sql, args).fetchall()
        except (UnicodeDecodeError, sqlite3.OperationalError) as error:
            # Bytes changed on disk after the file was checked: text that is not UTF-8
            # (which sqlite3 reports as either error, depending on the column).
            if isinstance(error, sqlite3.OperationalError) and "decode" not in str(error):
                raise
            raise StoreError(
                f"{self.path} is damaged: a trial's text is not UTF-8 ({error})"
            ) from None
        return [self._stored(row) for row in rows]

    def _stored(self, row: tuple) -> StoredTrial:
        fields = dict(zip(TRIAL_COLUMNS, row, strict=True))
        text, metrics = fields.pop("hp_values"), fields.pop("metrics")
        try:
            _check_columns(fields)
            values = self._parse_once(text, dict)
            metrics_config = self._parse_once(metrics, MetricsTracker)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            # The store holds only JSON this library wrote: anything else is damage.
            raise StoreError(
                f"{self.path} is damaged: trial {fields['trial_id']!r} cannot be read "
                f"({type(error).__name__}: {error})"
            ) from error
        return StoredTrial(values=values, values_json=text, metrics_config=metrics_config, **fields)

    def _parse_once(self, text: str, kind: type) -> Any:
        """The JSON `text` of a values dict (`kind` dict) or of metrics (`MetricsTracker`),
        checked. Model-based oracles reread every trial at each ask: each text is parsed
        and checked once, and the result shared (callers do not change it)."""
        value = self._parsed.get((kind, text))
        if value is None:
            value = loads(text)
            if not isinstance(value, dict):
                raise TypeError(f"{value!r:.40} is a {type(value).__name__}, not a dict")
            if kind is MetricsTracker:
                MetricsTracker.from_config(value)
            if len(self._parsed) > 200_000:  # running trials' metrics change at each report
                self._parsed.clear()
            self._parsed[(kind, text)] = value
        return value

    # -- creating and claiming trials -----------------------------------------------------
    def next_number(self) -> int:
        row = self._conn.execute("SELECT MAX(number) FROM trials").fetchone()
        return 0 if row[0] is None else row[0] + 1

    def create_trial(
        self, number: int, trial_id: str, values: dict[str, Any], value_hash: str, claim: Claim
    ) -> None:
        try:
            self._insert_trial(number, trial_id, values, value_hash, claim)
        except sqlite3.IntegrityError as error:
            # Numbers and ids are given out together (id = number) under the write lock,
            # so a taken id means a row whose number was changed by hand or by damage.
            raise StoreError(
                f"{self.path} is damaged: the next trial, number {number}, cannot be stored "
                f"because its id {trial_id!r} is already taken by a trial with another number "
                f"(SQLite says: {error}). Copy the project and repair the trials' numbers, or "
                "start the search in another project_name."
            ) from error

    def _insert_trial(
        self, number: int, trial_id: str, values: dict[str, Any], value_hash: str, claim: Claim
    ) -> None:
        self._write(
            "INSERT INTO trials (number, trial_id, status, hp_values, value_hash, owner_host, "
            "owner_pid, tuner_id, created_at, started_at, owner_token) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                trial_id,
                TrialStatus.RUNNING,
                dumps(values),
                value_hash,
                claim.host,
                claim.pid,
                claim.tuner_id,
                claim.started_at,
                claim.started_at,
                claim.token,
            ),
        )

    def claim(self, claim: Claim, abandoned: Callable[[StoredTrial], bool]) -> StoredTrial | None:
        with self._atomic():
            # One read: the running trials, then the IDLE one with the lowest number. The
            # claimer's own running trials are left out: it is alive, so they are not
            # abandoned (a driver with many trials in flight would reread them at each ask).
            own = ""
            args: tuple[Any, ...] = (TrialStatus.RUNNING,)
            if claim.pid is not None:
                # Its own by lease token, not by host and PID: a restarted container's
                # process has the PID (and host name) of the dead one it replaces.
                own = " AND NOT (owner_token IS ? AND owner_pid IS ?)"
                args = (*args, claim.token, claim.pid)
            first_idle = "SELECT trial_id FROM trials WHERE status=? ORDER BY number LIMIT 1"
            rows = self._select(
                f"(status=?{own}) OR trial_id=({first_idle})",
                (*args, TrialStatus.IDLE, TrialStatus.IDLE),
                "ORDER BY status=?, number",
            )
            leases = None
            found = None
            for trial in rows:
                if trial.status == TrialStatus.RUNNING and trial.owner_token is not None:
                    if leases is None:
                        leases = {lease.token: lease for lease in self.leases()}
                    trial.lease = leases.get(trial.owner_token)
                if trial.status == TrialStatus.IDLE or abandoned(trial):
                    found = trial
                    break
            if found is None:
                return None
            # A trial run again starts from scratch: what its interrupted or failed run
            # reported must not be averaged into the new run's metrics.
            self._conn.execute(
                "UPDATE trials SET status=?, owner_host=?, owner_pid=?, tuner_id=?, "
                "started_at=?, metrics='{}', score=NULL, best_step=NULL, owner_token=? "
                "WHERE trial_id=?",
                (
                    TrialStatus.RUNNING,
                    claim.host,
                    claim.pid,
                    claim.tuner_id,
                    claim.started_at,
                    claim.token,
                    found.trial_id,
                ),
            )
        found.status, found.owner_host, found.owner_pid = TrialStatus.RUNNING, claim.host, claim.pid
        found.tuner_id, found.started_at = claim.tuner_id, claim.started_at
        found.owner_token, found.lease = claim.token, None
        found.metrics_config, found.score, found.best_step = {}, None, None
        return found

    def renew_lease(self, lease: Lease) -> None:
        if self.memory:
            return  # no other process can see this store: nobody to hold it against
        with self._lease_lock:
            conn = self._lease_conn
            if conn is None:
                conn = sqlite3.connect(
                    self.path, timeout=60, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA busy_timeout=60000")
                self._lease_conn = conn
            # The first record of a lease also prunes leases long expired (dead processes').
            prune = conn.execute("SELECT 1 FROM leases WHERE token=?", (lease.token,)).fetchone()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO leases (token, host, pid, node, expires_at, pid_start) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(token) DO UPDATE SET expires_at=excluded.expires_at",
                    (
                        lease.token,
                        lease.host,
                        lease.pid,
                        lease.node,
                        lease.expires_at,
                        lease.pid_start,
                    ),
                )
                if prune is None:
                    conn.execute(
                        "DELETE FROM leases WHERE expires_at<?",
                        (lease.expires_at - _LEASE_PRUNE_AFTER,),
                    )
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.OperationalError) and _is_write_failure(error):
                    raise self._write_error(error) from error
                raise

    def leases(self) -> list[Lease]:
        rows = self._conn.execute(
            "SELECT token, host, pid, node, expires_at, pid_start FROM leases"
        )
        return [Lease(*row) for row in rows.fetchall()]

    def has_values(self, value_hash: str) -> bool:
        # An oracle checks its proposal (`Oracle.tried`) and the study checks it again in
        # the same `ask` transaction: the second answer is the first one's, unless a write
        # of this connection came between (no other process writes under the lock).
        conn = self._conn
        if not conn.in_transaction or self._transactions == 0:
            key = None
        else:
            key = (self._transactions, conn.total_changes, value_hash)
            if key == self._absent:
                return False
        sql = "SELECT 1 FROM trials WHERE value_hash=? LIMIT 1"
        found = conn.execute(sql, (value_hash,)).fetchone() is not None
        self._absent = None if found else key
        return found

    # -- changing a trial ---------------------------------------------------------------------
    def _update(self, trial_id: str, fields: dict[str, Any], states: tuple[str, ...]) -> bool:
        sets = ", ".join(f"{c}=?" for c in fields)
        marks = ", ".join("?" * len(states))
        sql = f"UPDATE trials SET {sets} WHERE trial_id=? AND status IN ({marks})"
        return self._write(sql, [*fields.values(), trial_id, *states]).rowcount == 1

    def save_values(self, trial_id: str, values: dict[str, Any]) -> bool:
        with self._atomic() as conn:
            row = conn.execute(
                "SELECT hp_values FROM trials WHERE trial_id=? AND status=?",
                (trial_id, TrialStatus.RUNNING),
            ).fetchone()
            if row is None:
                return False
            merged = {**loads(row[0]), **values}
            return self._update(trial_id, {"hp_values": dumps(merged)}, (TrialStatus.RUNNING,))

    def rescore(self, scores: list[tuple[str, float | None, int | None, str]]) -> None:
        with self._atomic() as conn:
            conn.executemany(
                "UPDATE trials SET score=?, best_step=?, status=? WHERE trial_id=?",
                [(score, step, status, trial_id) for trial_id, score, step, status in scores],
            )

    # -- reading trials -------------------------------------------------------------------
    def get_trial(self, trial_id: str) -> StoredTrial | None:
        found = self._select("trial_id=?", (trial_id,))
        return found[0] if found else None

    def get_trials(self, states: tuple[str, ...] | None = None) -> list[StoredTrial]:
        if states is None:
            return self._select()
        return self._select(f"status IN ({', '.join('?' * len(states))})", tuple(states))

    def best_trials(self, n: int, direction: str) -> list[StoredTrial]:
        order = "score DESC" if direction == "max" else "score ASC"
        return self._select(
            "status=? AND score IS NOT NULL",
            (TrialStatus.COMPLETED,),
            f"ORDER BY {order}, number LIMIT {int(n)}",
        )

    def last_ended(self, n: int) -> list[tuple[str, str, str | None, float]]:
        marks = ", ".join("?" * len(TrialStatus.FINISHED))
        # "+status": walk the end-time index from its end rather than sort by status.
        rows = self._conn.execute(
            f"SELECT trial_id, status, message, ended_at FROM trials WHERE +status IN "
            f"({marks}) AND ended_at IS NOT NULL ORDER BY ended_at DESC, number DESC LIMIT ?",
            (*TrialStatus.FINISHED, int(n)),
        )
        return rows.fetchall()

    def count_by_status(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, COUNT(*) FROM trials GROUP BY status")
        return dict(rows.fetchall())

    def change_token(self) -> str:
        if self.memory:  # no other connection can change it
            return f"memory-{self._conn.total_changes}"
        return file_token(self.path)

    # -- queue of enqueued configurations ---------------------------------------------------
    def enqueue(self, values: dict[str, Any], value_hash: str, skip_if_exists: bool = True) -> bool:
        with self._atomic() as conn:
            if skip_if_exists:
                queued = conn.execute("SELECT 1 FROM queue WHERE value_hash=?", (value_hash,))
                if queued.fetchone() is not None or self.has_values(value_hash):
                    return False
            conn.execute(
                "INSERT INTO queue (hp_values, value_hash) VALUES (?, ?)",
                (dumps(values), value_hash),
            )
            return True

    def pop_queue(self) -> dict[str, Any] | None:
        with self._atomic() as conn:
            row = conn.execute("SELECT id, hp_values FROM queue ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM queue WHERE id=?", (row[0],))
            return loads(row[1])

    def queue_length(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM queue").fetchone()[0]

    def integrity_check(self) -> str:
        """SQLite's full check of the file: "ok" when it is sound."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]
