"""Where a project's trials live: the `storage=` argument of tuners, oracles and
`TuneSearchCV`.

Without `storage` (the default) the trials are in the SQLite file of
``directory/project_name``. ``storage="postgresql://user:password@host:5432/database"``
keeps them in that PostgreSQL database instead (`tunelab.storage.postgres`), in the
project named by `project_name`; model files and checkpoints still go under
``directory/project_name``. A `Storage` instance is used as it is.

>>> check_storage("postgresql://tuner@db.example.org/studies")
'postgresql://tuner@db.example.org/studies'
>>> check_storage(None) is None
True
"""

from __future__ import annotations

from typing import Any

from tunelab.storage.base import Storage
from tunelab.storage.pg_session import redact

__all__ = ["SCHEMES", "check_storage", "is_storage_url", "list_projects", "open_url", "redact"]

SCHEMES = ("postgresql://", "postgres://")


def is_storage_url(value: Any) -> bool:
    """Whether `value` is a storage URL this tunelab opens (a PostgreSQL one)."""
    return isinstance(value, str) and value.lower().startswith(SCHEMES)


def check_storage(storage: Any) -> Storage | str | None:
    """`storage` if it is None, a `Storage` or a PostgreSQL URL; else a clear error."""
    if storage is None or isinstance(storage, Storage) or is_storage_url(storage):
        return storage
    if isinstance(storage, str):
        raise ValueError(
            f"storage={storage!r}; expected a PostgreSQL URL "
            "('postgresql://user:password@host:5432/database'), a tunelab.storage.Storage, or "
            "None (the SQLite file under directory/project_name, the default; a folder goes "
            "in directory=)"
        )
    raise TypeError(
        f"storage={storage!r}; expected a PostgreSQL URL string, a tunelab.storage.Storage or None"
    )


def open_url(
    url: str, project: str, read_only: bool = False, retry_seconds: float | None = None
) -> Storage:
    """The store of `project` in the database at `url` (see `check_storage`; `retry_seconds`:
    how long a lost server is retried, default ``TUNELAB_PG_RETRY_SECONDS`` or 30 s)."""
    from tunelab.storage.postgres import PostgresStorage

    return PostgresStorage(url, project, read_only=read_only, retry_seconds=retry_seconds)


def list_projects(url: str) -> list[str]:
    """The projects stored in the database at `url`."""
    from tunelab.storage import postgres

    return postgres.list_projects(url)
