"""Where the dashboard's projects are: the project folders under a folder (one SQLite store
each) or the projects of a PostgreSQL database (``tunelab dashboard postgresql://...``).

Each project is opened read-only through the storage interface and watched through its
change token (`tunelab.storage.Storage.change_token`): a file status check for a folder's
store, one small query for a database's project. Nothing here writes or holds SQL.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tunelab.storage import STORE_FILENAME, Storage, Store
from tunelab.storage.sqlite import file_token
from tunelab.storage.url import list_projects, open_url, redact
from tunelab.trial import TrialStatus

__all__ = [
    "DatabaseProject",
    "DatabaseProjects",
    "FolderProject",
    "FolderProjects",
    "Source",
    "resolve_project",
]

# How long a page's read waits for a lost database server: the page asks again a second
# later, and shows the error meanwhile.
DATABASE_RETRY_S = 2.0
FINISHED = tuple(TrialStatus.FINISHED)


class Source(Protocol):
    """One project's store, as the dashboard reads it."""

    @property
    def where(self) -> str:
        """The store's place, for messages (never with a password)."""

    def identity(self) -> Any:
        """What changes when the store is replaced by another (a reader then reopens it)."""

    def open(self) -> Storage:
        """The store, opened read-only."""

    def token(self, store: Callable[[], Storage]) -> str:
        """The store's change token; `store()` gives the open store if one is needed."""

    def last_change(self, store: Storage, counts: dict[str, int]) -> float | None:
        """When the project last changed (seconds since the epoch), if known."""

    def files(self, trial_id: str) -> list[dict[str, Any]] | None:
        """A trial's model files (path, bytes), or None where they cannot be seen."""


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, links resolved, lies in `root` (already resolved)."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(root)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class FolderProject:
    """A project folder's SQLite store `file`."""

    file: Path

    @property
    def where(self) -> str:
        return str(self.file)

    def identity(self) -> int:
        return self.file.stat().st_ino

    def open(self) -> Storage:
        return Store(self.file, read_only=True)

    def token(self, store: Callable[[], Storage]) -> str:
        return file_token(self.file)  # the file's status: no need to open it

    def last_change(self, store: Storage, counts: dict[str, int]) -> float | None:
        times = []
        for path in (self.file, Path(f"{self.file}-wal")):
            with contextlib.suppress(FileNotFoundError):
                times.append(path.stat().st_mtime)
        return max(times, default=None)

    def files(self, trial_id: str) -> list[dict[str, Any]] | None:
        project = self.file.parent
        folder = project / f"trial_{trial_id}"
        found: list[dict[str, Any]] = []
        if folder.is_dir() and _inside(folder, Path(os.path.realpath(project))):
            for path in sorted(folder.rglob("*"))[:100]:
                if path.is_file() and not path.is_symlink():
                    relative = path.relative_to(project).as_posix()
                    found.append({"path": relative, "bytes": path.stat().st_size})
        return found


@dataclass(frozen=True)
class DatabaseProject:
    """The project `project` of the PostgreSQL database at `url`."""

    url: str
    project: str

    @property
    def where(self) -> str:
        return f"{redact(self.url)} (project {self.project!r})"

    def identity(self) -> None:
        return None

    def open(self) -> Storage:
        return open_url(self.url, self.project, read_only=True, retry_seconds=DATABASE_RETRY_S)

    def token(self, store: Callable[[], Storage]) -> str:
        return store().change_token()

    def last_change(self, store: Storage, counts: dict[str, int]) -> float | None:
        # No file to date: the latest end, start of a live trial, or the project's creation.
        live = tuple(s for s in counts if s not in FINISHED)
        times: list[Any] = [row[3] for row in store.last_ended(1)]
        if live:
            times += [t.started_at for t in store.get_trials(live)]
        created = store.get_meta("created_at")
        if isinstance(created, (int, float)) and not isinstance(created, bool):
            times.append(created)
        return max((float(t) for t in times if t is not None and math.isfinite(t)), default=None)

    def files(self, trial_id: str) -> list[dict[str, Any]] | None:
        return None  # model files stay under the search's directory, on the host that ran it


def resolve_project(root: Path, name: Any) -> Path:
    """The store file of project `name` (a folder relative to `root`, ``"."`` for `root`).

    A name that is absolute, holds ``..``, or leads (through a link) outside `root` is
    refused with ValueError; a folder without a store with FileNotFoundError."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        raise ValueError(f"project={name!r}: expected a folder name relative to {root}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise ValueError(f"project={name!r}: expected a folder inside {root}, without '..'")
    real_root = Path(os.path.realpath(root))
    file = root.joinpath(*parts) / STORE_FILENAME
    if not _inside(file, real_root):
        raise ValueError(f"project={name!r}: it leads outside {root}")
    if not file.is_file():
        raise FileNotFoundError(f"project={name!r}: no {STORE_FILENAME} there")
    return file


class _Listing:
    """Projects found again at most every `every_s` seconds."""

    heading = ""
    empty = ""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._found: list[tuple[str, Source]] = []
        self._at = -math.inf
        self._lock = threading.Lock()

    def _find(self) -> list[tuple[str, Source]]:
        raise NotImplementedError

    def find(self, fresh: bool = False) -> list[tuple[str, Source]]:
        """``(name, source)`` of every project, by name (`fresh`: not from the last look)."""
        with self._lock:
            if fresh or time.monotonic() - self._at >= self.every_s:
                self._found, self._at = sorted(self._find(), key=lambda f: f[0]), time.monotonic()
            return self._found

    def resolve(self, name: Any) -> Source:
        """The source of project `name`; ValueError or FileNotFoundError if there is none."""
        raise NotImplementedError


class FolderProjects(_Listing):
    """The project folders under `root` (or the project folder `root`)."""

    def __init__(self, root: Path, every_s: float = 2.0) -> None:
        super().__init__(every_s)
        self.root = root
        self.where = str(root)
        self.heading = f"Projects under {root}"
        self.empty = "No project here yet: start a search with directory= this folder."

    def _find(self) -> list[tuple[str, Source]]:
        # Links that lead outside the folder are not followed.
        real_root = Path(os.path.realpath(self.root))
        found: list[tuple[str, Source]] = []
        for folder, subfolders, files in os.walk(self.root):
            subfolders.sort()
            if STORE_FILENAME in files:
                # Inside a project are its trials' folders (models, checkpoints): maybe
                # thousands, and never a project.
                subfolders.clear()
                file = Path(folder) / STORE_FILENAME
                if _inside(file, real_root):
                    found.append(
                        (Path(folder).relative_to(self.root).as_posix(), FolderProject(file))
                    )
        return found

    def resolve(self, name: Any) -> Source:
        return FolderProject(resolve_project(self.root, name))


class DatabaseProjects(_Listing):
    """The projects of the PostgreSQL database at `url` (only `project`, if given)."""

    def __init__(self, url: str, project: str | None = None, every_s: float = 2.0) -> None:
        super().__init__(every_s)
        self.url = url
        self.project = project
        self.where = redact(url)
        self.heading = (
            f"Projects in {self.where}" if project is None else f"Project in {self.where}"
        )
        self.empty = "No project here yet: start a search with storage= this database's URL."

    def _find(self) -> list[tuple[str, Source]]:
        names = list_projects(self.url) if self.project is None else [self.project]
        return [(name, DatabaseProject(self.url, name)) for name in names]

    def resolve(self, name: Any) -> Source:
        if not isinstance(name, str) or not name:
            raise ValueError(f"project={name!r}: expected the name of a project in {self.where}")
        if self.project is not None and name != self.project:
            raise ValueError(f"project={name!r}: this dashboard shows {self.project!r} only")
        for fresh in (False, True):  # a project created since the last look
            if any(found == name for found, _ in self.find(fresh)):
                return DatabaseProject(self.url, name)
        raise FileNotFoundError(f"project={name!r}: not in {self.where}")
