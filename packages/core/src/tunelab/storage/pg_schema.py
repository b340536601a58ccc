"""The PostgreSQL store's tables: created once per database, their version checked at
every opening (a newer one is refused), and the projects they hold."""

from __future__ import annotations

from typing import Any

from tunelab.storage.base import StoreError
from tunelab.storage.pg_session import load_psycopg, redact, scrub

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "check_schema",
    "create_schema",
    "list_projects",
    "project_names",
]

SCHEMA_VERSION = 1
FORMAT = "tunelab-store"
# The key of the lock that serialises creating the schema (any 64-bit number of our own).
_SCHEMA_LOCK = 0x7475_6E65_6C61_6200

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS tunelab;
CREATE TABLE IF NOT EXISTS tunelab.version (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    format TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tunelab.meta (
    project TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (project, key)
);
CREATE TABLE IF NOT EXISTS tunelab.trials (
    project TEXT NOT NULL,
    number INTEGER NOT NULL,
    trial_id TEXT NOT NULL,
    status TEXT NOT NULL,
    hp_values TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    score DOUBLE PRECISION,
    best_step INTEGER,
    message TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    owner_host TEXT,
    owner_pid INTEGER,
    tuner_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    ended_at DOUBLE PRECISION,
    owner_token TEXT,
    PRIMARY KEY (project, number),
    UNIQUE (project, trial_id)
);
CREATE INDEX IF NOT EXISTS trials_by_hash ON tunelab.trials (project, value_hash);
CREATE INDEX IF NOT EXISTS trials_by_status ON tunelab.trials (project, status, number);
CREATE INDEX IF NOT EXISTS trials_by_end ON tunelab.trials (project, ended_at, number);
CREATE TABLE IF NOT EXISTS tunelab.leases (
    project TEXT NOT NULL,
    token TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    node TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    pid_start BIGINT,
    PRIMARY KEY (project, token)
);
CREATE TABLE IF NOT EXISTS tunelab.queue (
    project TEXT NOT NULL,
    id BIGSERIAL PRIMARY KEY,
    hp_values TEXT NOT NULL,
    value_hash TEXT NOT NULL
);
"""

_TABLES = {"version", "meta", "trials", "leases", "queue"}


def _tables(conn: Any) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='tunelab'"
    ).fetchall()
    return {row[0] for row in rows}


def check_schema(conn: Any, url: str, must_exist: bool = False) -> None:
    """Refuse (`StoreError`) tables that are not tunelab's or come from a newer tunelab;
    with `must_exist`, also a database without them."""
    tables = _tables(conn)
    if must_exist and "version" not in tables:
        raise StoreError(
            f"{redact(url)} holds no tunelab store (no schema 'tunelab' with its tables); "
            "expected the database a search wrote with storage=..."
        )
    missing = _TABLES - tables
    if missing:
        raise StoreError(
            f"the schema 'tunelab' of {redact(url)} is not a tunelab store (it lacks the "
            f"tables {sorted(missing)}); refusing to use it: use another database"
        )
    row = conn.execute("SELECT format, version FROM tunelab.version").fetchone()
    if row is None or row[0] != FORMAT:
        raise StoreError(
            f"the schema 'tunelab' of {redact(url)} is not a tunelab store (its version row "
            f"is {row!r}); refusing to use it: use another database"
        )
    if row[1] > SCHEMA_VERSION:
        raise StoreError(
            f"{redact(url)} was written by a newer tunelab (PostgreSQL store schema version "
            f"{row[1]}; this tunelab reads up to {SCHEMA_VERSION}): upgrade tunelab to open it"
        )


def create_schema(conn: Any) -> None:
    """Create the tables unless they exist, then check them (`check_schema`)."""
    with conn.transaction():
        # Many processes may open a new database at once: one creates the tables.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        if "version" not in _tables(conn):
            conn.execute(_SCHEMA)
            conn.execute("INSERT INTO tunelab.version VALUES (1, %s, %s)", (FORMAT, SCHEMA_VERSION))
        check_schema(conn, conn.info.dsn)


def project_names(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT project FROM tunelab.meta WHERE key='format' ORDER BY project"
    ).fetchall()
    return [row[0] for row in rows]


def list_projects(url: str) -> list[str]:
    """The names of the projects stored in the database at `url` (none: an empty list)."""
    psycopg = load_psycopg()
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            return project_names(conn) if "meta" in _tables(conn) else []
    except psycopg.Error as error:
        raise StoreError(f"cannot read {redact(url)}: {scrub(str(error), url)}") from None
