"""Where trials live: the storage interface (`Storage`) and its SQLite implementation.

`tunelab.storage.base` documents what every storage guarantees; `tunelab.storage.sqlite`
holds the embedded SQLite store, the default (`tunelab.store` is its historical name).
"""

from tunelab.storage.base import Claim, Lease, Storage, StoredTrial, StoreError, dumps, loads
from tunelab.storage.sqlite import SCHEMA_VERSION, STORE_FILENAME, Store, project_path

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "Claim",
    "Lease",
    "Storage",
    "Store",
    "StoreError",
    "StoredTrial",
    "dumps",
    "loads",
    "project_path",
]
