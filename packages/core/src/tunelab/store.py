"""The SQLite trial store under its historical name: see `tunelab.storage`."""

from tunelab.storage import (
    SCHEMA_VERSION,
    STORE_FILENAME,
    Storage,
    Store,
    StoreError,
    dumps,
    loads,
    project_path,
)

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "Storage",
    "Store",
    "StoreError",
    "dumps",
    "loads",
    "project_path",
]
