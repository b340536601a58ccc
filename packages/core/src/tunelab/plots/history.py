"""The optimization history: each trial's score by trial number, and the best so far."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from tunelab.plots.figures import finish, need_finished, new_figure, require_matplotlib
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Positive scores spanning more than this ratio (two decades) are drawn on a log axis: on a
# linear one every score but the worst few sits on the bottom line.
LOG_SPREAD = 100.0
# Scores further than this many interquartile ranges on the worse side of the middle half are
# outliers (a diverged run's loss): the axis is fitted to the others and they are marked at
# its edge. Outliers on the better side stay in view: they are the results that matter.
OUTLIER_IQRS = 3.0


def choose_scale(
    scores: list[float], direction: str = "min"
) -> tuple[str, tuple[float, float] | None]:
    """The y scale (``"log"`` for positive scores that span more than two decades, else
    ``"linear"``) and the axis limits: None, or limits that leave out a few bad outliers
    (large scores for ``direction="min"``, small ones for ``"max"``) that would squash the
    rest. The scale is chosen from the scores that are not outliers.

    Examples
    --------
    >>> choose_scale([0.001, 0.1, 5.0])
    ('log', None)
    >>> choose_scale([0.2, 0.3, 0.25, 0.28, 1e6])
    ('linear', (0.188, 0.312))
    >>> choose_scale([0.2, 0.3, 0.25, 0.28, -1e6])  # the best one: kept in view
    ('linear', None)
    >>> choose_scale([1.0, 2.0, 3.0])
    ('linear', None)
    """
    values = np.asarray(scores, dtype=float)
    q1, q3 = np.percentile(values, [25, 75])
    spread = OUTLIER_IQRS * (q3 - q1)
    inside = values
    if spread > 0:
        inside = (
            values[values >= q1 - spread] if direction == "max" else values[values <= q3 + spread]
        )
    lo, hi = float(inside.min()), float(inside.max())
    log = lo > 0 and hi / lo > LOG_SPREAD
    if len(inside) == len(values):
        return ("log" if log else "linear"), None
    if log:
        return "log", (lo / 1.5, hi * 1.5)
    margin = 0.12 * (hi - lo)
    return "linear", (round(lo - margin, 12), round(hi + margin, 12))


def plot_optimization_history(source: Any, path: str | os.PathLike | None = None) -> Figure:
    """Each finished trial's score by trial number, and the best score so far.

    Positive scores that span more than two decades are drawn on a log axis. Otherwise,
    bad outliers (a diverged trial's loss, beyond three interquartile ranges) are clipped:
    the axis fits the other scores and each outlier is drawn as a triangle at the edge it
    lies beyond, counted in the legend.

    Examples
    --------
    >>> import tunelab as kt
    >>> trials = [kt.Trial(kt.HyperParameters(), str(i), "COMPLETED") for i in range(3)]
    >>> for i, trial in enumerate(trials):
    ...     trial.number, trial.score = i, 10.0 ** (-2 * i)
    >>> ax = plot_optimization_history(trials).axes[0]
    >>> ax.get_xlabel(), ax.get_yscale()
    ('trial', 'log')
    """
    require_matplotlib()
    from matplotlib.ticker import MaxNLocator

    results = load_results(source)
    need_finished(results, "the optimization history")
    trials = results.finished
    numbers = [t.number if t.number is not None else i for i, t in enumerate(trials)]
    scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
    better = np.fmax if results.objective.direction == "max" else np.fmin
    best = better.accumulate(np.asarray(scores))
    scale, limits = choose_scale(scores, results.objective.direction)
    figure = new_figure(8, 4)
    ax = figure.add_subplot()
    ax.set_yscale(scale)
    if limits is None:
        ax.scatter(numbers, scores, s=18, color="tab:blue", label="score")
    else:
        low, high = limits
        kept = [i for i, score in enumerate(scores) if low <= score <= high]
        ax.scatter(
            [numbers[i] for i in kept], [scores[i] for i in kept], s=18, color="tab:blue",
            label="score",
        )  # fmt: skip
        for edge, marker, where, outside in (
            (high, "^", "above", [n for n, s in zip(numbers, scores, strict=False) if s > high]),
            (low, "v", "below", [n for n, s in zip(numbers, scores, strict=False) if s < low]),
        ):
            if outside:
                ax.scatter(
                    outside,
                    [edge] * len(outside),
                    marker=marker,
                    s=36,
                    color="tab:gray",
                    clip_on=False,
                    label=f"{len(outside)} clipped ({where} the axis)",
                )
        ax.set_ylim(low, high)
    ax.step(numbers, best, where="post", color="tab:red", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(results.objective.name)
    ax.set_title("Optimization history")
    # Beside the axes: clipped points sit on the edge, where a legend inside could hide them.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(figure, path)
