"""A real PostgreSQL server for the session, and a fresh database per test.

Under CI (``CI=true``) a missing server or driver fails these tests; elsewhere they are
skipped with the reason (install it: ``apt-get install postgresql``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from .pg_server import Server, find_bin

_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_names = itertools.count()


def _missing(reason: str) -> None:
    if _IN_CI:
        pytest.fail(f"CI=true and {reason}: the PostgreSQL tests must run in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install 'psycopg[binary]>=3.1')")
    bindir = find_bin()
    if bindir is None:
        _missing("no PostgreSQL server binaries (apt-get install postgresql)")
    # fsync off: the tests kill clients and restart the server cleanly, never the machine.
    server = Server(bindir, {"fsync": "off", "full_page_writes": "off"})  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """The URL of a new, empty database of the session's server."""
    return pg_server.new_database(f"t{os.getpid()}_{next(_names)}")
