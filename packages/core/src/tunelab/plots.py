"""Plots of a search (``pip install tunelab[plot]`` for matplotlib).

Each function takes a tuner, an oracle, a project path or a list of trials, returns a
matplotlib `Figure`, and saves it when given ``path=`` (PNG or SVG, from the suffix). Figures
are built without pyplot, so plotting never opens a window or changes global state; in a
notebook, display the returned figure.

Kinds: ``history`` (score per trial and best so far), ``parallel`` (parallel coordinates),
``importance`` (hyperparameter importance), ``slice`` (score against each hyperparameter),
``curves`` (learning curves: a metric per step, one line per trial).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelab.results import Results, load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "KINDS",
    "plot",
    "plot_importance",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_slice",
    "save_figure",
]

IMAGE_FORMATS = ("png", "svg")


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("tunelab.plots needs matplotlib: pip install 'tunelab[plot]'") from error
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Save `figure` as PNG or SVG (chosen by the suffix of `path`).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> save_figure(Figure(), "/tmp/tunelab-doc/empty.svg").suffix
    '.svg'
    """
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(
            f"path={str(path)!r}: cannot tell the image format; expected a file name ending "
            f"in {' or '.join('.' + f for f in IMAGE_FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=suffix, dpi=120)
    return path


def _finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


def _need_finished(results: Results, what: str) -> None:
    if not results.finished:
        raise ValueError(
            f"cannot plot {what}: no finished trial with a score among "
            f"{len(results.trials)} trial(s)"
        )


def plot_optimization_history(source: Any, path: str | os.PathLike | None = None) -> Figure:
    """Each finished trial's score by trial number, and the best score so far.

    Examples
    --------
    >>> import tunelab as kt
    >>> trials = [kt.Trial(kt.HyperParameters(), str(i), "COMPLETED") for i in range(3)]
    >>> for i, trial in enumerate(trials):
    ...     trial.number, trial.score = i, 3.0 - i
    >>> plot_optimization_history(trials).axes[0].get_xlabel()
    'trial'
    """
    results = load_results(source)
    _need_finished(results, "the optimization history")
    trials = results.finished
    numbers = [t.number if t.number is not None else i for i, t in enumerate(trials)]
    scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
    better = max if results.objective.direction == "max" else min
    best, running = [], scores[0]
    for score in scores:
        running = better(running, score)
        best.append(running)
    figure = _figure(7, 4)
    ax = figure.add_subplot()
    ax.scatter(numbers, scores, s=18, color="tab:blue", label="score")
    ax.step(numbers, best, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(results.objective.name)
    ax.set_title("Optimization history")
    ax.legend()
    return _finish(figure, path)


def _columns(results: Results) -> list[tuple[str, Any]]:
    """Tunable hyperparameters with their definition (None when only found in trials)."""
    space = {hp.name: hp for hp in results.hyperparameters.space}
    return [
        (n, space.get(n))
        for n in results.hyperparameter_names()
        if space.get(n) is None or space[n].kind != "Fixed"
    ]


def plot_parallel_coordinates(source: Any, path: str | os.PathLike | None = None) -> Figure:
    """One line per finished trial across the hyperparameters' axes (each scaled to its
    range; inactive values at the bottom), colored by score."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    results = load_results(source)
    _need_finished(results, "parallel coordinates")
    columns = [(n, d) for n, d in _columns(results) if d is not None]
    if not columns:
        raise ValueError("cannot plot parallel coordinates: the search space is empty")
    trials = results.finished
    scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
    norm = Normalize(min(scores), max(scores) if max(scores) > min(scores) else min(scores) + 1)
    cmap = colormaps["viridis_r" if results.objective.direction == "min" else "viridis"]
    figure = _figure(max(6.0, 1.6 * (len(columns) + 1)), 4.5)
    ax = figure.add_subplot()
    xs = list(range(len(columns) + 1))
    # Draw the best trials last so they are on top.
    order = sorted(range(len(trials)), key=lambda i: -norm(scores[i]))
    if results.objective.direction == "max":
        order.reverse()
    for i in order:
        values = trials[i].hyperparameters.active_values()
        ys = [_unit(definition, values.get(name)) for name, definition in columns]
        ys.append(float(norm(scores[i])))
        ax.plot(xs, ys, color=cmap(norm(scores[i])), alpha=0.8, linewidth=1.2)
    for x, (_, definition) in enumerate(columns):
        ax.axvline(x, color="0.6", linewidth=0.8)
        ticks = _ticks(definition)
        for position, label in ticks:
            ax.annotate(label, (x, position), fontsize=7, xytext=(3, 0), textcoords="offset points")
    ax.axvline(len(columns), color="0.6", linewidth=0.8)
    ax.set_xticks(xs, [n for n, _ in columns] + [results.objective.name], rotation=20)
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.05)
    ax.set_title("Parallel coordinates")
    figure.colorbar(_mappable(cmap, norm), ax=ax, label=results.objective.name)
    return _finish(figure, path)


def _unit(definition: Any, value: Any) -> float:
    if value is None:
        return -0.08  # inactive: below the axis range
    try:
        return float(definition.to_unit(value))
    except (TypeError, ValueError):
        return -0.08


def _ticks(definition: Any) -> list[tuple[float, str]]:
    """Labels at the ends of a numeric axis, or at each value of a short list of choices."""
    from tunelab.display import format_value

    try:
        values = list(definition.grid_values())
    except (TypeError, ValueError):
        values = []
    if definition.kind in ("Choice", "Boolean") and len(values) <= 8:
        return [(float(definition.to_unit(v)), format_value(v, 12)) for v in values]
    low, high = definition.from_unit(0.0), definition.from_unit(1.0)
    return [(0.0, format_value(low, 12)), (1.0, format_value(high, 12))]


def _mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)


def plot_importance(
    source: Any, path: str | os.PathLike | None = None, method: str = "fanova"
) -> Figure:
    """Hyperparameter importance as horizontal bars (see `tunelab.importance`)."""
    from tunelab.importance import hyperparameter_importance

    importance = hyperparameter_importance(source, method=method)
    names = list(importance)[::-1]
    figure = _figure(6, max(2.5, 0.45 * len(names) + 1.2))
    ax = figure.add_subplot()
    ax.barh(names, [importance[n] for n in names], color="tab:blue")
    ax.set_xlabel(f"importance ({method})")
    ax.set_xlim(0, 1)
    ax.set_title("Hyperparameter importance")
    return _finish(figure, path)


def plot_slice(
    source: Any, path: str | os.PathLike | None = None, params: list[str] | None = None
) -> Figure:
    """The score against each hyperparameter's value (one panel each), colored by trial
    number; log-sampled hyperparameters on a log axis."""
    results = load_results(source)
    _need_finished(results, "slices")
    columns = _columns(results)
    if params is not None:
        known = [n for n, _ in columns]
        unknown = [p for p in params if p not in known]
        if unknown:
            raise ValueError(f"params={params!r}: unknown {unknown}; the search has {known}")
        columns = [(n, d) for n, d in columns if n in params]
    if not columns:
        raise ValueError("cannot plot slices: the search has no tunable hyperparameter")
    trials = results.finished
    width = min(4, len(columns))
    rows = math.ceil(len(columns) / width)
    figure = _figure(3.2 * width, 2.8 * rows)
    axes = figure.subplots(rows, width, squeeze=False, sharey=True)
    for k, (name, definition) in enumerate(columns):
        ax = axes[k // width][k % width]
        points = [
            (t.hyperparameters.active_values()[name], float(t.score), t.number or 0)  # type: ignore[arg-type]
            for t in trials
            if name in t.hyperparameters.active_values()
        ]
        if points:
            xs = [p[0] if isinstance(p[0], (int, float)) else str(p[0]) for p in points]
            ax.scatter(xs, [p[1] for p in points], c=[p[2] for p in points], cmap="Blues", s=16)
        if definition is not None and getattr(definition, "sampling", None) == "log":
            ax.set_xscale("log")
        ax.set_xlabel(name)
        if k % width == 0:
            ax.set_ylabel(results.objective.name)
    for k in range(len(columns), rows * width):
        axes[k // width][k % width].set_visible(False)
    figure.suptitle("Score by hyperparameter")
    return _finish(figure, path)


def plot_learning_curves(
    source: Any, path: str | os.PathLike | None = None, metric: str | None = None
) -> Figure:
    """A metric per step (epoch), one line per trial that reported it step by step."""
    results = load_results(source)
    names = results.metric_names()
    if metric is None:
        metric = results.objective.name if results.objective.name in names else None
        metric = metric or (names[0] if names else None)
    if metric is None or metric not in names:
        raise ValueError(f"metric={metric!r}: not reported by any trial; reported: {names}")
    figure = _figure(7, 4)
    ax = figure.add_subplot()
    drawn = 0
    for trial in results.trials:
        if metric not in trial.metrics.metrics:
            continue
        history = trial.metrics.get_history(metric)
        ax.plot([o.step for o in history], [o.mean() for o in history], marker=".", alpha=0.8)
        drawn += 1
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(f"Learning curves ({drawn} trials)")
    return _finish(figure, path)


KINDS = {
    "history": plot_optimization_history,
    "parallel": plot_parallel_coordinates,
    "importance": plot_importance,
    "slice": plot_slice,
    "curves": plot_learning_curves,
}


def plot(source: Any, kind: str = "history", path: str | os.PathLike | None = None) -> Figure:
    """Draw one of `KINDS` (``history``, ``parallel``, ``importance``, ``slice``,
    ``curves``) and save it when `path` is given."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {sorted(KINDS)}")
    return KINDS[kind](load_results(source), path=path)
