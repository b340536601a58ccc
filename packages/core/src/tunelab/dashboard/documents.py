"""The dashboard's documents, built from stored trials: pure functions, no I/O.

`tunelab.dashboard.data` reads the trials through the storage interface and caches what
these functions return; the server sends it as JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tunelab.hyperparameters import HyperParameters
from tunelab.objective import MultiObjective, Objective
from tunelab.storage import StoredTrial

__all__ = ["curves", "non_dominated", "row", "row_json", "trials_head"]

FINISHED_WITH_SCORE = ("COMPLETED", "STOPPED")
# Learning curves drawn at most (the latest trials that reported steps): a chart of ten
# thousand lines is unreadable and slow to draw in a browser.
MAX_CURVES = 200


def number(value: Any) -> float | None:
    """A finite float, or None (NaN, infinities and non-finite texts have no JSON form)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def steps(config: dict[str, Any], metric: str) -> list[tuple[int, float | None]]:
    """``(step, mean value)`` of one metric of a trial's stored metrics, by step."""
    history = config.get("metrics", {}).get(metric)
    if not history:
        return []
    points = []
    for observation in history.get("observations", []):
        values = [number(v) for v in observation.get("value", [])]
        kept = [v for v in values if v is not None]
        points.append((int(observation["step"]), math.fsum(kept) / len(kept) if kept else None))
    return sorted(points)


def _metric_at(config: dict[str, Any], metric: str, step: int | None, direction: str) -> Any:
    """A metric's value at `step`, else its best value."""
    points = [(s, v) for s, v in steps(config, metric) if v is not None]
    for s, v in points:
        if s == step:
            return v
    if not points:
        return None
    return (max if direction == "max" else min)(v for _, v in points)


def non_dominated(points: list[list[float]], directions: list[str]) -> list[int]:
    """Indices (ascending) of the points that no other point dominates, each coordinate to
    minimize or maximize as `directions` says. Equal points do not dominate each other.

    Points are visited in lexicographic order, so any point that dominates another comes
    before it, and checking against the front found so far is enough (O(n * front size))."""
    # TODO(lead): use tunelab.pareto
    signed = [
        tuple(v if d == "min" else -v for v, d in zip(p, directions, strict=True)) for p in points
    ]
    front: list[int] = []
    for i in sorted(range(len(signed)), key=lambda k: signed[k]):
        p = signed[i]
        if not any(
            signed[j] != p and all(a <= b for a, b in zip(signed[j], p, strict=True)) for j in front
        ):
            front.append(i)
    return sorted(front)


def objective_doc(objective: Objective) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": objective.name, "direction": objective.direction}
    if isinstance(objective, MultiObjective):
        doc["objectives"] = [o.get_config() for o in objective.objectives]
    return doc


def row(t: StoredTrial, objective: Objective) -> dict[str, Any]:
    """A trial as the project page's table and charts need it."""
    duration = None
    if t.started_at is not None and t.ended_at is not None:
        duration = max(0.0, t.ended_at - t.started_at)
    out: dict[str, Any] = {
        "id": t.trial_id,
        "number": t.number,
        "status": t.status,
        "score": number(t.score),
        "values": {k: number(v) if isinstance(v, float) else v for k, v in t.values.items()},
        "duration": duration,
    }
    if t.status in ("FAILED", "INVALID") and t.message:
        out["message"] = t.message
    if isinstance(objective, MultiObjective):
        out["objectives"] = {
            o.name: _metric_at(t.metrics_config, o.name, t.best_step, o.direction)
            for o in objective.objectives
        }
    return out


def row_json(r: dict[str, Any]) -> str:
    return json.dumps(r, allow_nan=False, separators=(",", ":"))


def trials_head(
    objective: Objective, space: HyperParameters, rows: list[dict[str, Any]], counts: dict
) -> dict[str, Any]:
    """Everything of the trials document but the rows: names, kinds, counts, Pareto front."""
    names = [hp.name for hp in space.space]
    seen = set(names)
    for r in rows:
        for name in r["values"]:
            if name not in seen:
                seen.add(name)
                names.append(name)
    doc: dict[str, Any] = {
        "objective": objective_doc(objective),
        "hyperparameters": [n for n in names if not n.startswith("tuner/")],
        "kinds": {hp.name: hp.kind for hp in space.space},
        "log": [hp.name for hp in space.space if getattr(hp, "sampling", None) == "log"],
        "counts": counts,
        "pareto": None,
    }
    if isinstance(objective, MultiObjective):
        keys = [o.name for o in objective.objectives]
        done = [
            r
            for r in rows
            if r["status"] in FINISHED_WITH_SCORE
            and all(r["objectives"].get(k) is not None for k in keys)
        ]
        points = [[r["objectives"][k] for k in keys] for r in done]
        front = non_dominated(points, [o.direction for o in objective.objectives])
        doc["pareto"] = [done[i]["id"] for i in front]
    return doc


def curves(
    trials: list[StoredTrial], objective: Objective, metric: str | None, steps_of: Any
) -> dict[str, Any]:
    """Each trial's reported steps of `metric` (default: the objective's), a Hyperband trial
    that continues another joined to its parent's steps. ``steps_of(trial, metric)`` gives
    a trial's steps (cached by the caller)."""
    reported: list[str] = []
    seen: set[str] = set()
    for t in trials:
        for m in t.metrics_config.get("metrics", {}):
            if m not in seen:
                seen.add(m)
                reported.append(m)
    if metric is None:
        metric = next((n for n in objective.names if n in seen), None)
        metric = metric or (reported[0] if reported else None)
    by_id = {t.trial_id: t for t in trials}
    lines = []
    for t in trials:
        own = steps_of(t, metric) if metric else []
        if not own:
            continue
        xs: list[int] = []
        ys: list[float | None] = []
        chain: list[str] = []
        parent = t.values.get("tuner/trial_id")
        while isinstance(parent, str) and parent in by_id and parent not in chain:
            chain.append(parent)
            parent = by_id[parent].values.get("tuner/trial_id")
        for part in [*(steps_of(by_id[a], metric) for a in reversed(chain)), own]:
            for s, v in part:
                if not xs or s > xs[-1]:
                    xs.append(s)
                    ys.append(v)
        if len(xs) > 1:
            lines.append(
                {
                    "id": t.trial_id,
                    "number": t.number,
                    "status": t.status,
                    "steps": xs,
                    "values": ys,
                    "joined": chain[::-1],
                }
            )
    return {
        "metric": metric,
        "metrics": reported,
        "lines": lines[-MAX_CURVES:],
        "total": len(lines),
    }
