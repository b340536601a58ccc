"""The Pareto front of a search as a plot (matplotlib: ``pip install 'matplotlib>=3.6'``).

Two objectives: every completed trial as a point, the front's trials highlighted and
joined by the staircase of the region they dominate. Three or more: one such panel per
pair of objectives (the front is that of all objectives, so a front trial may look
dominated in one pair). Infeasible trials (over a `constraints` bound) are drawn as
crosses. The figure is built without pyplot: no window opens; in a notebook, display the
returned figure.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunelab.oracles.multi_objective import objectives_of
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_pareto_front"]


def plot_pareto_front(source: Any, path: str | os.PathLike | None = None) -> Figure:
    """Plot the Pareto front of a search over an objective list.

    Parameters
    ----------
    source : BaseTuner, Oracle, project path or Results
        The search (any search with two or more objectives, Pareto or not).
    path : str or Path, optional
        Save the figure there too (PNG or SVG, from the suffix).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = kt.oracles.RandomSearchOracle(
    ...     objective=[kt.Objective("error", "min"), kt.Objective("size", "min")],
    ...     pareto=True, max_trials=6, seed=0)
    >>> for _ in range(6):
    ...     trial = oracle.ask()
    ...     x = trial.hyperparameters.Float("x", 0.0, 1.0)
    ...     _ = oracle.tell(trial, {"error": x, "size": (1.0 - x) ** 2})
    >>> figure = plot_pareto_front(oracle, "/tmp/tunelab-doc/front.png")
    >>> len(figure.axes)
    1
    """
    results = load_results(source)
    objectives = objectives_of(results.objective)
    if len(objectives) < 2:
        raise ValueError(
            f"cannot plot a Pareto front of {results.objective!r}: expected an objective list "
            "of two or more objectives"
        )
    ranking = results.pareto_ranking()
    if not ranking:
        raise ValueError(
            f"cannot plot a Pareto front: no completed trial reports every objective among "
            f"{len(results.trials)} trial(s)"
        )
    values = np.array([row[2] for row in ranking], dtype=float)
    front = np.array([rank == 0 and not violation for _, rank, _, violation in ranking])
    infeasible = np.array([violation > 0 for _, _, _, violation in ranking])
    pairs = list(itertools.combinations(range(len(objectives)), 2))
    columns = min(3, len(pairs))
    rows = -(-len(pairs) // columns)
    figure = _figure(4.2 * columns, 3.6 * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (i, j) in zip(axes, pairs, strict=False):
        _panel(ax, values, front, infeasible, objectives, i, j, legend=ax is axes[0])
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    figure.suptitle(f"Pareto front: {int(front.sum())} of {len(values)} completed trials")
    if path is not None:
        _save(figure, path)
    return figure


def _panel(
    ax: Axes,
    values: np.ndarray,
    front: np.ndarray,
    infeasible: np.ndarray,
    objectives: list[Any],
    i: int,
    j: int,
    legend: bool,
) -> None:
    other = ~front & ~infeasible
    ax.scatter(values[other, i], values[other, j], s=14, c="0.65", label="dominated")
    if infeasible.any():
        ax.scatter(
            values[infeasible, i], values[infeasible, j], s=18, marker="x", c="tab:red",
            label="infeasible",
        )  # fmt: skip
    points = values[front][:, [i, j]]
    ax.scatter(points[:, 0], points[:, 1], s=28, c="tab:blue", zorder=3, label="Pareto front")
    if len(objectives) == 2 and len(points):
        ax.plot(*_staircase(points, objectives[i].direction), c="tab:blue")
    ax.set_xlabel(f"{objectives[i].name} ({objectives[i].direction})")
    ax.set_ylabel(f"{objectives[j].name} ({objectives[j].direction})")
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def _staircase(points: np.ndarray, x_direction: str) -> tuple[Any, Any]:
    """The outline of the region the front points dominate: sorted from best to worst
    in x, each step going to the next point's y first (y gets better as x gets worse)."""
    order = np.argsort(points[:, 0] if x_direction == "min" else -points[:, 0], kind="stable")
    xs, ys = points[order, 0], points[order, 1]
    out_x, out_y = [xs[0]], [ys[0]]
    for x, y in zip(xs[1:], ys[1:], strict=True):
        out_x += [x, x]
        out_y += [out_y[-1], y]
    return np.array(out_x), np.array(out_y)


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "tunelab.plots_pareto needs matplotlib, which is not installed: pip install "
            "'matplotlib>=3.6' (or pip install './packages/core[plot]' from a checkout)"
        ) from error
    return Figure(figsize=(width, height), layout="constrained")


def _save(figure: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in ("png", "svg"):
        raise ValueError(
            f"path={str(path)!r}: cannot tell the image format; expected a file name ending "
            "in .png or .svg"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=suffix, dpi=120)
    return path
