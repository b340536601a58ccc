"""Connections of the PostgreSQL store: a small pool, the bounded retry after a lost
connection, and the one transaction helper with the project's lock (see
`tunelab.storage.postgres` for what the store promises)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from tunelab.storage.base import StoreError

__all__ = ["RETRY_ENV", "Session", "load_psycopg", "redact", "scrub"]

RETRY_ENV = "TUNELAB_PG_RETRY_SECONDS"
# SQLSTATEs of a connection the server ended (admin shutdown, crash, cannot connect now).
_GONE = ("57P01", "57P02", "57P03", "08006", "08003", "08001")


def _passwords(url: str) -> list[str]:
    """The passwords written in `url` (in its user part or as ``?password=``), as written
    and decoded, longest first."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "password"]
    found += [m.group(1) for m in re.finditer(r"(?:^|&)password=([^&]*)", parts.query)]
    return sorted({s for f in found for s in (f, unquote(f)) if s}, key=len, reverse=True)


def redact(url: str) -> str:
    """`url` without its password (for messages).

    >>> redact("postgresql://me:secret@db:5432/studies")
    'postgresql://me:***@db:5432/studies'
    >>> redact("postgresql://me@db/studies?password=secret&sslmode=require")
    'postgresql://me@db/studies?password=***&sslmode=require'
    """
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit(parts._replace(query=query))


def scrub(text: str, url: str) -> str:
    """`text` (a driver's message about `url`) on one line, with the URL's password (as
    written or decoded) replaced by ``***``: libpq quotes parts of a URL it cannot parse.

    >>> scrub('invalid percent-encoded token: "pw%zz"', "postgresql://me:pw%zz@db/x")
    'invalid percent-encoded token: "***"'
    """
    text = " ".join(text.split())
    for secret in _passwords(url):
        text = text.replace(secret, "***")
    return text


def load_psycopg() -> Any:
    """The psycopg module, or an ImportError saying what to install."""
    try:
        import psycopg
    except ImportError as error:
        raise ImportError(
            "storage='postgresql://...' needs psycopg 3, which is not installed: pip install "
            "'psycopg[binary]>=3.1' (or pip install './packages/core[postgres]' from a checkout)"
        ) from error
    return psycopg


def retry_seconds() -> float:
    """How long a lost server is retried: ``TUNELAB_PG_RETRY_SECONDS`` or 30 s."""
    text = os.environ.get(RETRY_ENV)
    if text is None:
        return 30.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"{RETRY_ENV}={text!r}; expected a number of seconds >= 0 (e.g. 30)")
    return value


class _Pool:
    """A few open connections, reused: one per thread at a time (the heartbeat's thread
    renews leases while the search's thread works). A broken connection is dropped when
    it comes back, and a new one is made at the next call, at once: reconnecting is paced
    by the bounded retry alone (psycopg-pool's background reconnection has a back-off of
    its own, which after an outage delayed the first call by seconds)."""

    def __init__(self, url: str, psycopg: Any, keep: int = 4) -> None:
        self.url, self.psycopg, self.keep = url, psycopg, keep
        self.idle: list[Any] = []
        self.lock = threading.Lock()
        self.closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self.lock:
            conn = self.idle.pop() if self.idle else None
        if conn is None:
            conn = self.psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        try:
            yield conn
        finally:
            idle = self.psycopg.pq.TransactionStatus.IDLE
            healthy = not conn.closed and not conn.broken
            healthy = healthy and conn.info.transaction_status == idle
            with self.lock:
                if healthy and not self.closed and len(self.idle) < self.keep:
                    self.idle.append(conn)
                    conn = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            idle, self.idle = self.idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()


class Session:
    """How the store talks to its server: `call` runs one action (retried on a new
    connection when the old one broke), `transaction` groups actions, taking the lock
    `lock_key` before the first one that needs it (`call(..., lock=True)`)."""

    def __init__(
        self, url: str, lock_key: int, location: str, retry_for: float | None = None
    ) -> None:
        self.psycopg = load_psycopg()
        self.url = url
        self.location = location
        self.lock_key = lock_key
        self.retry_for = retry_seconds() if retry_for is None else retry_for
        self.pool = _Pool(url, self.psycopg)
        self.local = threading.local()
        try:
            # A wrong URL, password or database fails here at once (the retries are for a
            # study whose server goes away while it runs).
            with self.pool.connection() as conn:
                self.early = self._can_commit_early(conn)
        except self.psycopg.Error as error:
            raise StoreError(
                f"cannot connect to the PostgreSQL server of storage={location} "
                f"({scrub(str(error), url)}); check that it runs and that the URL's "
                "host, port, user, password and database are right"
            ) from None

    @staticmethod
    def _can_commit_early(conn: Any) -> bool:
        """Whether this server and user allow `_commit_early` (PostgreSQL 13 or later, and
        the right to write a message to the write-ahead log, which `_flushed` needs)."""
        if conn.info.server_version < 130000:
            return False
        row = conn.execute(
            "SELECT has_function_privilege('pg_logical_emit_message(boolean,text,text)', 'execute')"
        ).fetchone()
        return bool(row[0])

    def lost(self, error: BaseException) -> bool:
        """Whether `error` means the connection (or the server) went away, not a bad query."""
        psycopg = self.psycopg
        if str(getattr(error, "sqlstate", None) or "").startswith("40"):
            return False  # a deadlock or serialization failure: the server is there
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        return getattr(error, "sqlstate", None) in _GONE

    def in_block(self) -> Any:
        """This thread's open transaction's connection, or None."""
        return getattr(self.local, "conn", None)

    def lock(self, conn: Any) -> None:
        """Hold the project's lock until the open transaction ends (once per block)."""
        if not self.local.locked:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
            self.local.locked = True

    def call(self, action: Callable[[Any], Any], lock: bool = True) -> Any:
        """`action(conn)` inside this thread's open transaction (after taking the lock
        unless `lock` is False: a single conditional update needs none), or on a pooled
        connection in a transaction of its own. A broken connection is retried with a
        bounded back-off, except inside a block, whose earlier statements it lost."""
        conn = self.in_block()
        if conn is not None:
            try:
                if lock:
                    self.lock(conn)
                return action(conn)
            except Exception as error:
                if self.lost(error):
                    raise self.lost_error(error, in_block=True) from error
                raise
        return self._retried(lambda: self._alone(action))

    def _alone(self, action: Callable[[Any], Any]) -> Any:
        with self.pool.connection() as conn:
            return action(conn)

    def _retried(self, attempt: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.retry_for
        delay = 0.05
        while True:
            try:
                return attempt()
            except Exception as error:
                if not self.lost(error):
                    raise
                if time.monotonic() + delay > deadline:
                    raise self.lost_error(error) from error
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)

    def lost_error(self, error: Exception, in_block: bool = False) -> StoreError:
        said = scrub(str(error), self.url)  # psycopg's messages span lines
        if in_block:
            return StoreError(
                f"lost the connection to the PostgreSQL server of {self.location} in the "
                f"middle of a transaction ({type(error).__name__}: {said}); nothing of it "
                "was kept and every trial stored before is intact: run the same search "
                "again to resume"
            )
        return StoreError(
            f"the PostgreSQL server of {self.location} could not be reached for "
            f"{self.retry_for:.0f} s ({type(error).__name__}: {said}); the trials stored "
            "before are kept there: run the same search again to resume once it is back "
            f"({RETRY_ENV} sets how long to retry)"
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One transaction on one connection: committed when the block ends, rolled back
        when it raises; a block inside a block joins it. The project's lock is taken by
        the first `call` that needs it and held to the end."""
        if self.in_block() is not None:
            yield self.local.conn
            return

        def begin() -> tuple[Any, Any, Any]:
            context = self.pool.connection()
            conn = context.__enter__()
            try:
                tx = conn.transaction()
                tx.__enter__()  # sends BEGIN: a dead connection shows here, and is retried
            except BaseException as error:
                with contextlib.suppress(Exception):
                    context.__exit__(type(error), error, None)
                raise
            return context, conn, tx

        context, conn, tx = self._retried(begin)
        self.local.conn, self.local.locked = conn, False
        try:
            try:
                yield conn
            except BaseException as error:
                self.local.conn = None
                with contextlib.suppress(Exception):
                    tx.__exit__(type(error), error, None)
                raise
            self.local.conn = None
            wrote = False
            try:
                if self.local.locked and self.early:
                    wrote = self._commit_early(conn)
                tx.__exit__(None, None, None)
            except Exception as error:
                if self.lost(error):
                    raise self.lost_error(error, in_block=True) from error
                raise
            if wrote:
                self._flushed(conn)
        finally:
            self.local.conn = None
            with contextlib.suppress(Exception):
                context.__exit__(None, None, None)

    def _commit_early(self, conn: Any) -> bool:
        """Let the commit of a block that holds the project's lock return (and release the
        lock) once its commit record is written, before the server flushes it to disk; True
        if the block wrote anything. The flush (a few milliseconds on a disk) then happens
        in `_flushed`, outside the lock, so that other processes' asks do not wait for it."""
        row = conn.execute(
            "SELECT pg_current_xact_id_if_assigned() IS NOT NULL, "
            "set_config('synchronous_commit', 'off', true)"
        ).fetchone()
        return bool(row[0])

    def _flushed(self, conn: Any) -> None:
        """Return once the block committed just before on `conn` is as durable as the
        server's ``synchronous_commit`` makes any commit. A transaction that writes to the
        write-ahead log (here, an empty message) commits with that setting, so its commit
        waits for the log up to its own record, which follows the block's: the block's is
        flushed with it. (Other processes may have read the block's rows meanwhile; what
        they wrote from them comes later in the same log, so a crash never keeps theirs
        and loses the block's.)"""
        try:
            conn.execute("SELECT pg_logical_emit_message(true, 'tunelab', '')")
        except Exception as error:
            if self.lost(error):
                raise StoreError(
                    f"lost the connection to the PostgreSQL server of {self.location} just "
                    f"after a transaction committed, before the server confirmed it durable "
                    f"({type(error).__name__}: {scrub(str(error), self.url)}); run the same "
                    "search again to resume (a trial it started runs again once its lease "
                    "expires)"
                ) from error
            raise

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Any]:
        """The open transaction (or a new one) with the project's lock held."""
        with self.transaction() as conn:
            try:
                self.lock(conn)
            except Exception as error:
                if self.lost(error):
                    raise self.lost_error(error, in_block=True) from error
                raise
            yield conn

    def close(self) -> None:
        self.pool.close()
