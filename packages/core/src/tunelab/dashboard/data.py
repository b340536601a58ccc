"""What the dashboard shows, as JSON-ready dicts, read through the storage interface.

Nothing here imports the web server, so the documents can be built and tested on their own.
Every store is opened with ``Store(path, read_only=True)`` and read with the interface's
methods (`get_trials`, `get_meta`, `count_by_status`, `best_trials`): the dashboard writes
nothing and holds no SQL of its own.

A page polls its documents every second. Rebuilding one for a project of 10,000 trials costs
tens of milliseconds, so each is cached under the store's change token (`change_token`): a
poll of an unchanged store answers from the cache (and the server with 304 Not Modified).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelab.hyperparameters import HyperParameters
from tunelab.objective import MultiObjective, Objective
from tunelab.storage import STORE_FILENAME, Store, StoredTrial, StoreError

__all__ = ["ProjectReader", "Projects", "change_token", "non_dominated", "resolve_project"]

# Learning curves drawn at most (the latest trials that reported steps): a chart of ten
# thousand lines is unreadable and slow to draw in a browser.
MAX_CURVES = 200
# Importance is fitted on at most this many finished trials (evenly spaced over the search),
# and refitted at most every IMPORTANCE_EVERY_S seconds while trials keep finishing.
IMPORTANCE_TRIALS = 400
IMPORTANCE_EVERY_S = 5.0
# Errors a damaged or foreign store raises while it is read.
READ_ERRORS = (OSError, StoreError, ValueError, TypeError, KeyError, AttributeError)


def change_token(file: Path) -> str:
    """A text that changes whenever the store at `file` may have changed.

    Every commit writes the store file or its write-ahead log (``-wal``), so their inode,
    size and modification time (nanoseconds) together move with every change. A stat costs
    microseconds; no query is made. An empty WAL counts as none: opening the store to read
    may create one, which changes nothing in it."""
    parts = []
    for path in (file, Path(f"{file}-wal")):
        try:
            s = path.stat()
        except FileNotFoundError:
            s = None
        if s is None or (s.st_size == 0 and path != file):
            parts.append("-")
            continue
        parts.append(f"{s.st_ino:x}.{s.st_size:x}.{s.st_mtime_ns:x}")
    return "-".join(parts)


def last_change(file: Path) -> float | None:
    """When the store last changed (the later of the file's and its WAL's times)."""
    times = []
    for path in (file, Path(f"{file}-wal")):
        with contextlib.suppress(FileNotFoundError):
            times.append(path.stat().st_mtime)
    return max(times, default=None)


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, links resolved, lies in `root` (already resolved)."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(root)
    except (OSError, ValueError):
        return False


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


class Projects:
    """The projects under a folder, found again at most every `every_s` seconds."""

    def __init__(self, root: Path, every_s: float = 2.0) -> None:
        self.root = root
        self.every_s = every_s
        self._found: list[tuple[str, Path]] = []
        self._at = -math.inf
        self._lock = threading.Lock()

    def find(self) -> list[tuple[str, Path]]:
        """``(name, store file)`` of every project, by name. Links that lead outside the
        folder are not followed."""
        with self._lock:
            if time.monotonic() - self._at < self.every_s:
                return self._found
            real_root = Path(os.path.realpath(self.root))
            found = []
            for folder, subfolders, files in os.walk(self.root):
                # A trial's folder holds models and checkpoints, never a project.
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("trial_"))
                if STORE_FILENAME in files:
                    file = Path(folder) / STORE_FILENAME
                    if _inside(file, real_root):
                        name = Path(folder).relative_to(self.root).as_posix()
                        found.append((name, file))
            self._found, self._at = sorted(found), time.monotonic()
            return self._found


def _number(value: Any) -> float | None:
    """A finite float, or None (NaN, infinities and non-finite texts have no JSON form)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _steps(config: dict[str, Any], metric: str) -> list[tuple[int, float | None]]:
    """``(step, mean value)`` of one metric of a trial's stored metrics, by step."""
    history = config.get("metrics", {}).get(metric)
    if not history:
        return []
    points = []
    for observation in history.get("observations", []):
        values = [_number(v) for v in observation.get("value", [])]
        kept = [v for v in values if v is not None]
        points.append((int(observation["step"]), math.fsum(kept) / len(kept) if kept else None))
    return sorted(points)


def _metric_at(config: dict[str, Any], metric: str, step: int | None, direction: str) -> Any:
    """A metric's value at `step`, else its best value."""
    points = [(s, v) for s, v in _steps(config, metric) if v is not None]
    for s, v in points:
        if s == step:
            return v
    if not points:
        return None
    return (max if direction == "max" else min)(v for _, v in points)


def non_dominated(points: list[list[float]], directions: list[str]) -> list[int]:
    """Indices of the points no other point dominates (each coordinate to minimize or
    maximize as `directions` says)."""
    # TODO(lead): use tunelab.pareto
    signed = [[v if d == "min" else -v for v, d in zip(p, directions, strict=True)] for p in points]
    front = []
    for i, p in enumerate(signed):
        dominated = any(all(a <= b for a, b in zip(q, p, strict=True)) and q != p for q in signed)
        if not dominated:
            front.append(i)
    return front


def _objective(store: Store) -> Objective:
    config = store.get_meta("objective")
    if not config:
        return Objective("default_objective", "min")
    try:
        return Objective.from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StoreError(f"its stored objective cannot be read ({error})") from error


def _space(store: Store) -> HyperParameters:
    try:
        return HyperParameters.from_config({"space": store.get_meta("space") or []})
    except (ValueError, TypeError, KeyError, AttributeError):
        return HyperParameters()  # the trials keep their values; shown without the space


def _objective_doc(objective: Objective) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": objective.name, "direction": objective.direction}
    if isinstance(objective, MultiObjective):
        doc["objectives"] = [o.get_config() for o in objective.objectives]
    return doc


def _error(file: Path, error: BaseException) -> str:
    text = str(error)
    return text if str(file) in text else f"{file}: {text}"


class ProjectReader:
    """One project's read-only store and the documents made from it.

    Each document is rebuilt only when the store's change token moved since it was last
    built. The store is reopened when its file is replaced (a search started again with
    ``overwrite=True``)."""

    def __init__(self, name: str, file: Path) -> None:
        self.name = name
        self.file = file
        self._store: Store | None = None
        self._inode: int | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, dict[str, Any]]] = {}
        self._importance_at = -math.inf

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def token(self) -> str:
        return change_token(self.file)

    def _open(self) -> Store:
        inode = self.file.stat().st_ino
        if self._store is None or inode != self._inode:
            if self._store is not None:
                self._store.close()
            self._store, self._inode = None, None
            self._store, self._inode = Store(self.file, read_only=True), inode
        return self._store

    def document(self, kind: str, build: Callable[[Store], dict[str, Any]]) -> dict[str, Any]:
        """The document `kind`, from the cache while the store is unchanged. A store that
        cannot be read gives ``{"error": message}`` rather than raising."""
        with self._lock:
            token = self.token()
            cached = self._cache.get(kind)
            if cached is not None and cached[0] == token:
                return cached[1]
            try:
                doc = build(self._open())
            except READ_ERRORS as error:
                if self._store is not None:
                    self._store.close()
                self._store = None
                doc = {"error": _error(self.file, error)}
            doc = {"project": self.name, "token": token, **doc}
            self._cache[kind] = (token, doc)
            return doc

    # -- the documents ------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Trials by status, best score and last change (the projects page's row)."""
        return self.document("summary", self._summary)

    def _summary(self, store: Store) -> dict[str, Any]:
        objective = _objective(store)
        best = store.best_trials(1, objective.direction)
        return {
            "objective": _objective_doc(objective),
            "counts": store.count_by_status(),
            "best": _number(best[0].score) if best else None,
            "best_trial": best[0].trial_id if best else None,
            "last_change": last_change(self.file),
        }

    def trials(self) -> dict[str, Any]:
        """Every trial (values, status, score, duration, error), the space's names, the
        objective and, for several objectives, each trial's values and the Pareto front."""
        return self.document("trials", self._trials)

    def _trials(self, store: Store) -> dict[str, Any]:
        objective = _objective(store)
        space = _space(store)
        stored = store.get_trials()
        names = [hp.name for hp in space.space]
        seen = set(names)
        metrics: list[str] = []
        rows = []
        multi = objective.objectives if isinstance(objective, MultiObjective) else None
        for t in stored:
            for name in t.values:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
            for metric in t.metrics_config.get("metrics", {}):
                if metric not in metrics:
                    metrics.append(metric)
            rows.append(_row(t, multi))
        doc: dict[str, Any] = {
            "objective": _objective_doc(objective),
            "hyperparameters": [n for n in names if not n.startswith("tuner/")],
            "kinds": {hp.name: hp.kind for hp in space.space},
            "log": [hp.name for hp in space.space if getattr(hp, "sampling", None) == "log"],
            "metrics": metrics,
            "counts": store.count_by_status(),
            "trials": rows,
            "pareto": None,
        }
        if multi:
            keys = [o.name for o in multi]
            done = [
                r
                for r in rows
                if r["status"] in ("COMPLETED", "STOPPED")
                and all(r["objectives"].get(k) is not None for k in keys)
            ]
            points = [[r["objectives"][k] for k in keys] for r in done]
            front = non_dominated(points, [o.direction for o in multi])
            doc["pareto"] = [done[i]["id"] for i in front]
        return doc

    def curves(self, metric: str | None = None) -> dict[str, Any]:
        """Each trial's reported steps of `metric` (default: the objective's), a Hyperband
        trial that continues another joined to its parent's steps."""
        return self.document(f"curves:{metric}", lambda store: self._curves(store, metric))

    def _curves(self, store: Store, metric: str | None) -> dict[str, Any]:
        objective = _objective(store)
        stored = store.get_trials()
        reported: list[str] = []
        for t in stored:
            reported += [m for m in t.metrics_config.get("metrics", {}) if m not in reported]
        if metric is None:
            metric = next((n for n in objective.names if n in reported), None)
            metric = metric or (reported[0] if reported else None)
        by_id = {t.trial_id: t for t in stored}
        lines = []
        for t in stored:
            own = _steps(t.metrics_config, metric) if metric else []
            if not own:
                continue
            steps, values, chain = [], [], []
            parent = t.values.get("tuner/trial_id")
            while isinstance(parent, str) and parent in by_id and parent not in chain:
                chain.append(parent)
                parent = by_id[parent].values.get("tuner/trial_id")
            for ancestor in reversed(chain):
                for s, v in _steps(by_id[ancestor].metrics_config, metric):
                    if not steps or s > steps[-1]:
                        steps.append(s)
                        values.append(v)
            for s, v in own:
                if not steps or s > steps[-1]:
                    steps.append(s)
                    values.append(v)
            lines.append(
                {
                    "id": t.trial_id,
                    "number": t.number,
                    "status": t.status,
                    "steps": steps,
                    "values": values,
                    "joined": chain[::-1],
                }
            )
        with_steps = [line for line in lines if len(line["steps"]) > 1]
        return {
            "metric": metric,
            "metrics": reported,
            "lines": with_steps[-MAX_CURVES:],
            "total": len(with_steps),
        }

    def importance(self) -> dict[str, Any]:
        """The core's hyperparameter importance (fANOVA-style) of the finished trials,
        refitted at most every IMPORTANCE_EVERY_S seconds."""
        with self._lock:
            cached = self._cache.get("importance")
            if cached is not None and time.monotonic() - self._importance_at < IMPORTANCE_EVERY_S:
                return cached[1]
        doc = self.document("importance", self._importance)
        self._importance_at = time.monotonic()
        return doc

    def _importance(self, store: Store) -> dict[str, Any]:
        from tunelab.importance import hyperparameter_importance
        from tunelab.results import Results

        objective = _objective(store)
        space = _space(store)
        finished = [
            t for t in store.get_trials(("COMPLETED", "STOPPED")) if _number(t.score) is not None
        ]
        step = max(1, math.ceil(len(finished) / IMPORTANCE_TRIALS))
        used = finished[::step]
        results = Results(objective, [t.to_trial(space) for t in used], space, str(self.file))
        try:
            shares = hyperparameter_importance(results, n_trees=32)
        except ValueError as error:  # fewer than 3 finished trials
            return {
                "importance": {},
                "used": len(used),
                "finished": len(finished),
                "note": str(error),
            }
        return {"importance": shares, "used": len(used), "finished": len(finished), "note": None}

    def trial(self, trial_id: str) -> dict[str, Any]:
        """One trial: values, every metric per step, timing, error, its model files."""
        return self.document(f"trial:{trial_id}", lambda store: self._trial(store, trial_id))

    def _trial(self, store: Store, trial_id: str) -> dict[str, Any]:
        t = store.get_trial(trial_id)
        if t is None:
            return {"missing": f"no trial {trial_id!r} in this project"}
        folder = self.file.parent / f"trial_{t.trial_id}"
        files = []
        if folder.is_dir() and _inside(folder, Path(os.path.realpath(self.file.parent))):
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    files.append(
                        {
                            "path": path.relative_to(self.file.parent).as_posix(),
                            "bytes": path.stat().st_size,
                        }
                    )
        metrics = {
            name: [{"step": s, "value": v} for s, v in _steps(t.metrics_config, name)]
            for name in t.metrics_config.get("metrics", {})
        }
        return {
            "trial": {
                **_row(t, None),
                "metrics": metrics,
                "retries": t.retries,
                "owner": t.owner_host and f"{t.owner_host} (pid {t.owner_pid})",
                "created": t.created_at,
                "files": files[:100],
            }
        }


def _row(t: StoredTrial, multi: list[Objective] | None) -> dict[str, Any]:
    duration = None
    if t.started_at is not None and t.ended_at is not None:
        duration = max(0.0, t.ended_at - t.started_at)
    row: dict[str, Any] = {
        "id": t.trial_id,
        "number": t.number,
        "status": t.status,
        "score": _number(t.score),
        "best_step": t.best_step,
        "values": {k: v if not isinstance(v, float) else _number(v) for k, v in t.values.items()},
        "duration": duration,
        "started": t.started_at,
        "ended": t.ended_at,
        "message": t.message,
        "parent": t.values.get("tuner/trial_id"),
    }
    if multi:
        row["objectives"] = {
            o.name: _metric_at(t.metrics_config, o.name, t.best_step, o.direction) for o in multi
        }
    return row
