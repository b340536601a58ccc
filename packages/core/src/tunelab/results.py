"""A search's results as data: one record per trial, each metric's history, CSV and JSON
export, and a pandas DataFrame when pandas is installed (``pip install 'pandas>=1.5'``).

Everything here reads the trial store (or a tuner's or oracle's trials), so it works the
same for any backend and never imports a framework.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelab.hyperparameters import HyperParameters
from tunelab.log import get_logger
from tunelab.objective import MultiObjective, Objective, create_objective
from tunelab.oracles.multi_objective import check_constraints, objective_vector, objectives_of
from tunelab.pareto import rank_order
from tunelab.storage import STORE_FILENAME, Storage, Store, StoreError
from tunelab.storage.url import is_storage_url, list_projects, open_url, redact
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Results",
    "export_results",
    "history_records",
    "load_results",
    "results_dataframe",
    "trial_records",
]

FORMATS = ("csv", "json")


@dataclass
class Results:
    """The trials of one project, with what is needed to read them.

    Attributes
    ----------
    objective : Objective
        What the search optimized (its direction orders the scores).
    trials : list of Trial
        Every trial, in the order they were created.
    hyperparameters : HyperParameters
        The search space.
    location : str
        Where the project lives ("" for trials that were handed in directly).
    backend : str or None
        The backend that trained the models, if any (``"keras"``, ``"sklearn"``).
    pareto : bool
        Whether the search looked for the Pareto front of its objectives.
    constraints : dict
        ``{metric name: upper bound}`` of the search (see `kt.oracles.Oracle`).
    """

    objective: Objective
    trials: list[Trial]
    hyperparameters: HyperParameters = field(default_factory=HyperParameters)
    location: str = ""
    backend: str | None = None
    pareto: bool = False
    constraints: dict[str, float] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        """Whether trials get a Pareto rank: an objective list, a Pareto search or
        constraints."""
        return isinstance(self.objective, MultiObjective) or self.pareto or bool(self.constraints)

    def pareto_ranks(self) -> dict[str, int]:
        """Each completed trial's rank, by trial id: 0 on the feasible Pareto front of the
        objectives, then the next fronts, then infeasible trials (`tunelab.pareto.rank_order`).
        """
        return {str(t.trial_id): rank for t, rank, _, _ in self.pareto_ranking()}

    def pareto_ranking(self) -> list[tuple[Trial, int, list[float], float]]:
        """The completed trials best first for a Pareto search (feasibility, non-domination
        rank, crowding distance), each as ``(trial, rank, objective values, violation)``."""
        objectives = objectives_of(self.objective)
        kept, rows, violations = [], [], []
        for trial in self.trials:
            if trial.status != TrialStatus.COMPLETED:
                continue
            found = objective_vector(trial.metrics, objectives, self.constraints)
            if found is not None:
                kept.append(trial)
                rows.append(found[0])
                violations.append(found[1])
        if not kept:
            return []
        order, ranks = rank_order(rows, [o.direction for o in objectives], violations)
        return [(kept[i], int(ranks[i]), rows[i], violations[i]) for i in order]

    def pareto_front(self) -> list[Trial]:
        """The feasible completed trials that no other feasible trial dominates."""
        return [t for t, rank, _, violation in self.pareto_ranking() if rank == 0 and not violation]

    @property
    def finished(self) -> list[Trial]:
        """Trials with a finite score (COMPLETED or STOPPED), in creation order."""
        return [
            t
            for t in self.trials
            if t.status in ("COMPLETED", "STOPPED")
            and t.score is not None
            and math.isfinite(t.score)
        ]

    def best(self, num_trials: int = 1) -> list[Trial]:
        if self.pareto or self.constraints:
            return [t for t, _, _, _ in self.pareto_ranking()][:num_trials]
        """The best finished trials, best first."""
        sign = -1.0 if self.objective.direction == "max" else 1.0
        ranked = sorted(self.finished, key=lambda t: (sign * (t.score or 0.0), t.number or 0))
        return ranked[:num_trials]

    def hyperparameter_names(self) -> list[str]:
        """Names of the space's hyperparameters, then any value found only in trials."""
        names = [hp.name for hp in self.hyperparameters.space]
        for trial in self.trials:
            names += [n for n in trial.hyperparameters.values if n not in names]
        return names

    def metric_names(self) -> list[str]:
        names: list[str] = []
        for trial in self.trials:
            names += [n for n in trial.metrics.metrics if n not in names]
        return names


def _project_file(path: str | os.PathLike) -> Path:
    """The store file of a project folder (or the file itself), with a clear error when the
    path is missing or holds no tunelab project."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"path={str(path)!r} does not exist; expected a project folder "
            f"(directory/project_name, holding {STORE_FILENAME}) or the {STORE_FILENAME} file"
        )
    file = path / STORE_FILENAME if path.is_dir() else path
    if not file.is_file():
        raise StoreError(
            f"path={str(path)!r} is not a tunelab project: it has no {STORE_FILENAME}; "
            "expected the folder directory/project_name of a search"
        )
    return file


def _stored_space(store: Storage) -> HyperParameters:
    """The stored search space; an empty one, with a warning, when it cannot be read: the
    finished trials keep their values and stay readable without it."""
    try:
        return HyperParameters.from_config({"space": store.get_meta("space") or []})
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        get_logger("results").warning(
            "%s: the stored search space cannot be read (%s: %s); the trials are shown "
            "with their values but without the space's definitions",
            store.path,
            type(error).__name__,
            error,
        )
        return HyperParameters()


def _from_store(path: str | os.PathLike, project_name: str | None = None) -> Results:
    if is_storage_url(path):
        if project_name is None:
            raise ValueError(
                f"source={redact(str(path))!r} is a database: name the project too "
                f"(project_name=...; on the command line --project NAME); projects there: "
                f"{list_projects(str(path))}"
            )
        store: Storage = open_url(str(path), project_name, read_only=True)
        where = str(getattr(store, "location", store.path))
        return _read_store(store, where, where)
    file = _project_file(path)
    return _read_store(Store(file, read_only=True), str(file), str(file.parent))


def _read_store(store: Storage, file: str, location: str) -> Results:
    try:
        try:
            space = _stored_space(store)
            objective_config = store.get_meta("objective")
            objective = (
                Objective.from_config(objective_config)
                if objective_config
                else Objective("default_objective", "min")
            )
            backend = store.get_meta("backend")
            pareto = store.get_meta("pareto") or {}
            constraints = check_constraints(pareto.get("constraints"))
            if backend is not None and not isinstance(backend, str):
                raise TypeError(f"backend {backend!r} is not a name")
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            # Settings are JSON this library wrote: anything else is damage, reported as
            # such rather than as an internal error from deep inside the parsing.
            raise StoreError(
                f"{file} is damaged: its stored objective or backend cannot "
                f"be read ({type(error).__name__}: {error})"
            ) from error
        trials = [stored.to_trial(space) for stored in store.get_trials()]
    finally:
        store.close()
    return Results(
        objective,
        trials,
        space,
        location,
        backend,
        bool(pareto.get("pareto", False)),
        constraints,
    )


def load_results(source: Any, objective: Any = None, project_name: str | None = None) -> Results:
    """Gather the trials of a tuner, an oracle, a project path or a list of trials.

    Parameters
    ----------
    source : BaseTuner, Oracle, str, Path, Results or list of Trial
        A path is a project folder (``directory/project_name``) or its ``tunelab.sqlite``;
        a PostgreSQL URL (``postgresql://...``) is a database, with `project_name`.
    objective : str or Objective, optional
        Needed only for a list of trials (default: minimize their scores).
    project_name : str, optional
        The project to read in a database (only with a URL).

    Returns
    -------
    Results

    Examples
    --------
    >>> import tunelab as kt
    >>> tuner = kt.RandomSearch(lambda hp: hp.Float("x", 0, 1) ** 2, objective="loss",
    ...                         max_trials=3, seed=0, directory="/tmp/tunelab-doc",
    ...                         project_name="results", overwrite=True)
    >>> tuner.search(verbose=0)
    >>> len(load_results(tuner).trials)
    3
    """
    if isinstance(source, Results):
        return source
    if isinstance(source, (str, os.PathLike)):
        return _from_store(source, project_name)
    oracle = getattr(source, "oracle", source)
    if hasattr(oracle, "trials") and hasattr(oracle, "objective"):
        trials = sorted(oracle.trials.values(), key=lambda t: t.number or 0)
        location = str(getattr(source, "_location", None) or oracle.project_dir or "")
        return Results(
            oracle.objective,
            trials,
            oracle.hyperparameters.copy(),
            location,
            pareto=bool(getattr(oracle, "pareto", False)),
            constraints=dict(getattr(oracle, "constraints", {}) or {}),
        )
    if isinstance(source, (list, tuple)) and all(isinstance(t, Trial) for t in source):
        space = HyperParameters()
        for trial in source:
            space.merge(trial.hyperparameters.space, overwrite=False)
        chosen = create_objective(objective) if objective is not None else Objective("score", "min")
        return Results(chosen, list(source), space)
    raise TypeError(
        f"source={source!r}: expected a tuner, an oracle, a project path or a list of Trials"
    )


def _finite(value: Any) -> Any:
    """NaN and infinities become None: they have no place in CSV cells or JSON."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def trial_records(source: Any) -> list[dict[str, Any]]:
    """One flat record per trial: id, number, status, score, duration (seconds), then
    ``hp_<name>`` for each hyperparameter (None where inactive) and ``metric_<name>`` for
    each metric's best value over the steps. A search over an objective list (or a Pareto
    search, or one with constraints) has a ``pareto_rank`` column after the score: 0 on
    the Pareto front, None for trials that did not complete.

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters({"units": 32}), trial_id="0", status="COMPLETED")
    >>> trial_records([trial])[0]["hp_units"]
    32
    """
    results = load_results(source)
    names, metrics = results.hyperparameter_names(), results.metric_names()
    ranks = results.pareto_ranks() if results.ranked else None
    records = []
    for trial in results.trials:
        record: dict[str, Any] = {
            "trial_id": trial.trial_id,
            "number": trial.number,
            "status": trial.status,
            "score": _finite(trial.score),
        }
        if ranks is not None:
            record["pareto_rank"] = ranks.get(str(trial.trial_id))
        record |= {
            "best_step": trial.best_step,
            "duration": trial.duration,
        }
        values = trial.hyperparameters.active_values()
        record.update({f"hp_{n}": values.get(n) for n in names})
        record.update({f"metric_{m}": _finite(trial.metrics.get_best_value(m)) for m in metrics})
        records.append(record)
    return records


def history_records(source: Any) -> list[dict[str, Any]]:
    """Every reported metric value: one record per trial, metric and step (the mean over
    executions), for learning curves.

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters(), trial_id="0")
    >>> trial.metrics.update("loss", 0.5, step=0)
    >>> history_records([trial])
    [{'trial_id': '0', 'metric': 'loss', 'step': 0, 'value': 0.5}]
    """
    records = []
    for trial in load_results(source).trials:
        for name, history in trial.metrics.metrics.items():
            for observation in history.get_history():
                records.append(
                    {
                        "trial_id": trial.trial_id,
                        "metric": name,
                        "step": observation.step,
                        "value": _finite(observation.mean()),
                    }
                )
    return records


def results_dataframe(source: Any, history: bool = False) -> pandas.DataFrame:
    """The trials as a pandas DataFrame (needs pandas: ``pip install 'pandas>=1.5'``).

    Parameters
    ----------
    source : BaseTuner, Oracle, path or list of Trial
    history : bool
        False: one row per trial (`trial_records`). True: one row per trial, metric and
        step (`history_records`), ready for learning curves.

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters({"units": 32}), trial_id="0", status="COMPLETED")
    >>> results_dataframe([trial])["hp_units"].tolist()
    [32]
    """
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            "results_dataframe needs pandas, which is not installed: pip install 'pandas>=1.5' "
            "(or pip install './packages/core[pandas]' from a checkout); "
            "export_results(path, format='csv') needs no pandas"
        ) from error
    records = history_records(source) if history else trial_records(source)
    frame = pandas.DataFrame.from_records(records)
    if not history and "trial_id" in frame:
        frame = frame.set_index("trial_id", drop=False)
        frame.index.name = None
    return frame


def _json_trial(trial: Trial) -> dict[str, Any]:
    metrics = {}
    for name, history in trial.metrics.metrics.items():
        metrics[name] = {
            "direction": history.direction,
            "best": _finite(history.get_best_value()),
            "history": [
                {
                    "step": o.step,
                    "value": _finite(o.mean()),
                    "executions": list(map(_finite, o.value)),
                }
                for o in history.get_history()
            ],
        }
    return {
        "trial_id": trial.trial_id,
        "number": trial.number,
        "status": trial.status,
        "score": _finite(trial.score),
        "best_step": trial.best_step,
        "started_at": trial.started_at,
        "ended_at": trial.ended_at,
        "duration": trial.duration,
        "hyperparameters": trial.hyperparameters.active_values(),
        "metrics": metrics,
        "message": trial.message,
    }


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# a hyperparameter value or trial id from a shared store could call out or run commands.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A CSV cell: None as empty, and text a spreadsheet would take for a formula quoted
    with a leading apostrophe (numbers, negative ones included, stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_results(source: Any, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write the trials to a CSV or JSON file (no pandas needed).

    CSV has one row per trial (the columns of `trial_records`). JSON keeps everything:
    the objective, the space, and per trial its values, status, score, timing, error
    message and each metric's full history.

    Parameters
    ----------
    source : BaseTuner, Oracle, path or list of Trial
    path : str or Path
        The file to write (its folder is created).
    format : {"csv", "json"}, optional
        Default: from the file's suffix.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters({"units": 32}), trial_id="0", status="COMPLETED")
    >>> export_results([trial], "/tmp/tunelab-doc/results.csv").read_text().splitlines()[0]
    'trial_id,number,status,score,best_step,duration,hp_units'
    """
    path = Path(path)
    if format is None:
        format = path.suffix.lstrip(".").lower()
    if format not in FORMATS:
        raise ValueError(
            f"format={format!r}; expected one of {FORMATS} (or a path ending in .csv or .json)"
        )
    results = load_results(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "csv":
        records = trial_records(results)
        columns = list(records[0]) if records else ["trial_id", "number", "status", "score"]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for record in records:
                writer.writerow({k: _csv_cell(v) for k, v in record.items()})
        return path
    document = {
        "location": results.location,
        "objective": results.objective.get_config(),
        "backend": results.backend,
        "space": results.hyperparameters.get_config()["space"],
        "trials": [_json_trial(t) for t in results.trials],
    }
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path
