"""The dashboard's documents of one project, read through the storage interface only.

Nothing here imports the web server. Every store is opened read-only (by its source,
`tunelab.dashboard.sources`: a folder's SQLite file or a PostgreSQL database's project)
and read with the interface's methods (`change_token`, `get_meta`, `count_by_status`,
`get_trials`, `get_trial`, `last_ended`, `best_trials`): the dashboard writes nothing and
holds no SQL of its own.

A page polls every second, so reads are made cheap twice over:

* each document (JSON text) is cached under the store's change token (a file status check,
  or one small query to the database): a poll of an unchanged store reads nothing more
  (the server answers 304);
* a finished trial never changes (`Storage.finish` refuses a second finish), so finished
  trials are read once and kept, with their JSON rows; after a change only the trials that
  are not finished and the newly finished ones (found with `last_ended`) are read. Any
  doubt (a count that does not add up, a changed objective or space, a replaced file) and
  every trial is read again.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelab.dashboard import documents
from tunelab.dashboard.sources import FolderProject, Source
from tunelab.hyperparameters import HyperParameters
from tunelab.objective import Objective
from tunelab.storage import Storage, StoredTrial, StoreError
from tunelab.trial import TrialStatus

__all__ = ["READ_ERRORS", "Document", "ProjectReader"]

FINISHED = tuple(TrialStatus.FINISHED)
# Importance is fitted on at most this many finished trials (evenly spaced over the search),
# and refitted at most every IMPORTANCE_EVERY_S seconds (or ten times as long as the last fit
# took) while trials keep finishing.
IMPORTANCE_TRIALS = 300
IMPORTANCE_EVERY_S = 5.0
# Errors a damaged or foreign store raises while it is read.
READ_ERRORS = (OSError, StoreError, ValueError, TypeError, KeyError, AttributeError)


def _objective(config: Any) -> Objective:
    if not config:
        return Objective("default_objective", "min")
    try:
        return Objective.from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StoreError(f"its stored objective cannot be read ({error})") from error


def _space(config: Any) -> HyperParameters:
    try:
        return HyperParameters.from_config({"space": config or []})
    except (ValueError, TypeError, KeyError, AttributeError):
        return HyperParameters()  # the trials keep their values; shown without the space


def _error(where: str, error: BaseException) -> str:
    text = str(error)
    return text if where in text else f"{where}: {text}"


class _Rows(list):
    """Rows already encoded as JSON text, spliced into a document as they are."""


def _encode(doc: dict[str, Any]) -> bytes:
    raw = {k: v for k, v in doc.items() if isinstance(v, _Rows)}
    text = json.dumps(
        {k: v for k, v in doc.items() if k not in raw}, allow_nan=False, separators=(",", ":")
    )
    for key, rows in raw.items():
        text = f"{text[:-1]},{json.dumps(key)}:[{','.join(rows)}]}}"
    return text.encode("utf-8")


@dataclass
class Document:
    """A document as sent: its JSON `body` and the store's change `token` it was built at."""

    token: str
    body: bytes

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


class ProjectReader:
    """One project's read-only store and the documents made from it (see the module
    docstring for what is cached). Safe to use from several threads."""

    def __init__(self, name: str, source: Source | Path) -> None:
        self.name = name
        self.source: Source = FolderProject(source) if isinstance(source, Path) else source
        self.full_reads = 0  # how many times every finished trial was read (for tests)
        self._store: Storage | None = None
        self._identity: Any = None
        self._lock = threading.RLock()
        self._fit_lock = threading.Lock()
        self._docs: dict[str, Document] = {}
        self._settings: Any = None
        self._finished: dict[str, StoredTrial] = {}
        self._rows: dict[str, tuple[dict[str, Any], str]] = {}
        self._steps: dict[tuple[str, str], list] = {}
        self._importance_at = -math.inf
        self._importance_cost = 0.0

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def token(self) -> str:
        """The store's change token (READ_ERRORS when it cannot be had)."""
        return self.source.token(self._open)

    def _forget(self) -> None:
        self._finished.clear()
        self._rows.clear()
        self._steps.clear()

    def _open(self) -> Storage:
        identity = self.source.identity()
        if self._store is None or identity != self._identity:
            self.close()
            self._forget()
            self._store, self._identity = self.source.open(), identity
        return self._store

    def _failed(self, error: BaseException) -> tuple[str, dict[str, Any]]:
        """The token and document of a store that cannot be read: the same token while
        the error stays the same (the page then gets 304), and nothing kept."""
        self.close()
        self._forget()
        message = _error(self.source.where, error)
        return f"error-{hashlib.sha256(message.encode()).hexdigest()[:16]}", {"error": message}

    def _read(self, store: Storage) -> tuple[Objective, HyperParameters, list[StoredTrial], dict]:
        """The objective, the space, every trial by number and the counts by status."""
        settings = tuple(store.get_meta(key) for key in ("objective", "space", "created_at"))
        # A rescore, a new space or the project made again (overwrite=True): nothing kept holds.
        if settings != self._settings:
            self._forget()
            self._settings = settings
        objective, space = _objective(settings[0]), _space(settings[1])
        counts = store.count_by_status()
        missing = sum(n for s, n in counts.items() if s in FINISHED) - len(self._finished)
        if missing:
            new: list[StoredTrial | None] | None = None
            if 0 < missing <= 1000 and self._finished:
                ended = store.last_ended(missing + 50)
                ids = [row[0] for row in ended if row[0] not in self._finished]
                if len(ids) == missing:
                    new = [store.get_trial(i) for i in ids]
            if new is None or any(t is None or t.status not in FINISHED for t in new):
                self._forget()
                self.full_reads += 1
                new = list(store.get_trials(FINISHED))
            self._finished.update((t.trial_id, t) for t in new if t is not None)
        live = tuple(s for s in counts if s not in FINISHED)
        trials = list(self._finished.values())
        trials += [t for t in store.get_trials(live) if t.trial_id not in self._finished]
        trials.sort(key=lambda t: t.number)
        return objective, space, trials, counts

    def document(self, kind: str, build: Callable[[Storage], dict[str, Any]]) -> Document:
        """The document `kind`, from the cache while the store is unchanged. A store that
        cannot be read gives ``{"error": message}`` rather than raising."""
        with self._lock:
            try:
                token = self.token()
            except READ_ERRORS as error:
                token, doc = self._failed(error)
            else:
                cached = self._docs.get(kind)
                if cached is not None and cached.token == token:
                    return cached
                try:
                    doc = build(self._open())
                except READ_ERRORS as error:
                    doc = self._failed(error)[1]
            cached = Document(token, _encode({"project": self.name, "token": token, **doc}))
            self._docs[kind] = cached
            return cached

    # -- the documents ------------------------------------------------------------------
    def summary(self) -> Document:
        """Trials by status, best score and last change (the projects page's row)."""
        return self.document("summary", self._summary)

    def _summary(self, store: Storage) -> dict[str, Any]:
        objective = _objective(store.get_meta("objective"))
        best = store.best_trials(1, objective.direction)
        counts = store.count_by_status()
        return {
            "objective": documents.objective_doc(objective),
            "counts": counts,
            "best": documents.number(best[0].score) if best else None,
            "best_trial": best[0].trial_id if best else None,
            "last_change": self.source.last_change(store, counts),
        }

    def trials(self) -> Document:
        """Every trial (values, status, score, duration, error), the space's names, the
        objective and, for several objectives, each trial's values and the Pareto front."""
        return self.document("trials", self._trials)

    def _trials(self, store: Storage) -> dict[str, Any]:
        objective, space, trials, counts = self._read(store)
        rows, texts = [], _Rows()
        for t in trials:
            done = self._rows.get(t.trial_id)
            if done is None:
                r = documents.row(t, objective)
                done = (r, documents.row_json(r))
                if t.status in FINISHED:
                    self._rows[t.trial_id] = done
            rows.append(done[0])
            texts.append(done[1])
        return {**documents.trials_head(objective, space, rows, counts), "trials": texts}

    def curves(self, metric: str | None = None) -> Document:
        """Learning curves of `metric` (default: the objective's); see `documents.curves`."""
        return self.document(f"curves:{metric}", lambda store: self._curves(store, metric))

    def _steps_of(self, trial: StoredTrial, metric: str) -> list:
        if trial.status not in FINISHED:
            return documents.steps(trial.metrics_config, metric)
        key = (trial.trial_id, metric)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = documents.steps(trial.metrics_config, metric)
        return found

    def _curves(self, store: Storage, metric: str | None) -> dict[str, Any]:
        objective, _, trials, _ = self._read(store)
        return documents.curves(trials, objective, metric, self._steps_of)

    def importance(self) -> Document:
        """The core's hyperparameter importance (fANOVA-style) of the finished trials. The
        fit runs outside the reader's lock, so the other documents stay quick meanwhile."""
        with self._fit_lock:
            with self._lock:
                cached = self._docs.get("importance")
                wait = max(IMPORTANCE_EVERY_S, 10 * self._importance_cost)
                failed: dict[str, Any] | None = None
                try:
                    token = self.token()
                except READ_ERRORS as error:
                    token, failed = self._failed(error)
                if cached is not None and (
                    cached.token == token
                    or (failed is None and time.monotonic() - self._importance_at < wait)
                ):
                    return cached
                if failed is None:
                    try:
                        objective, space, trials, _ = self._read(self._open())
                    except READ_ERRORS as error:
                        failed = self._failed(error)[1]
            started = time.monotonic()
            doc = failed if failed else _importance(objective, space, trials)
            finished = Document(token, _encode({"project": self.name, "token": token, **doc}))
            with self._lock:
                self._docs["importance"] = finished
                self._importance_at = time.monotonic()
                self._importance_cost = self._importance_at - started
            return finished

    def trial(self, trial_id: str) -> Document:
        """One trial: values, every metric per step, timing, error, its model files."""
        return self.document(f"trial:{trial_id}", lambda store: self._trial(store, trial_id))

    def _trial(self, store: Storage, trial_id: str) -> dict[str, Any]:
        t = store.get_trial(trial_id)
        if t is None:
            return {"missing": f"no trial {trial_id!r} in this project"}
        files = self.source.files(t.trial_id)
        metrics = {
            name: [{"step": s, "value": v} for s, v in documents.steps(t.metrics_config, name)]
            for name in t.metrics_config.get("metrics", {})
        }
        objective = _objective(store.get_meta("objective"))
        return {
            "trial": {
                **documents.row(t, objective),
                "message": t.message,
                "best_step": t.best_step,
                "started": t.started_at,
                "ended": t.ended_at,
                "parent": t.values.get("tuner/trial_id"),
                "metrics": metrics,
                "retries": t.retries,
                "owner": t.owner_host and f"{t.owner_host} (pid {t.owner_pid})",
                "files": files,
            }
        }


def _importance(
    objective: Objective, space: HyperParameters, trials: list[StoredTrial]
) -> dict[str, Any]:
    from tunelab.importance import hyperparameter_importance
    from tunelab.results import Results

    finished = [
        t
        for t in trials
        if t.status in documents.FINISHED_WITH_SCORE and documents.number(t.score) is not None
    ]
    used = finished[:: max(1, math.ceil(len(finished) / IMPORTANCE_TRIALS))]
    results = Results(objective, [t.to_trial(space) for t in used], space)
    note: str | None = None
    try:
        shares = hyperparameter_importance(results, n_trees=32)
    except ValueError as error:  # fewer than 3 finished trials
        shares, note = {}, str(error)
    return {"importance": shares, "used": len(used), "finished": len(finished), "note": note}
