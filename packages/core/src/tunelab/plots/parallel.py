"""Parallel coordinates: one line per trial across one vertical axis per hyperparameter."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from tunelab.plots.figures import (
    choices,
    columns,
    finish,
    is_categorical,
    label,
    need_finished,
    new_figure,
    require_matplotlib,
)
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Where a trial's line crosses an axis whose hyperparameter was inactive in it (a
# conditional one): below the axis's range, on a tick labelled "inactive".
INACTIVE = -0.1
NUMERIC_TICKS = 5


def plot_parallel_coordinates(source: Any, path: str | os.PathLike | None = None) -> Figure:
    """One line per finished trial across the hyperparameters' axes, colored by score.

    Each axis is scaled to its hyperparameter's range (a log-sampled one logarithmically)
    and carries its own tick labels: the choices of a Choice or Boolean, five values over
    a numeric range. The last axis is the score. A hyperparameter that was inactive in a
    trial (a conditional one) is drawn below its axis, at the tick "inactive". The axes are
    the figure's secondary y axes (``figure.axes[0].child_axes``), one per column.

    Examples
    --------
    >>> import tunelab as kt
    >>> def objective(hp):
    ...     return hp.Float("x", 0, 1) + (hp.Choice("act", ["relu", "tanh"]) == "tanh")
    >>> tuner = kt.RandomSearch(objective, objective="loss", max_trials=4, seed=0,
    ...                         directory="/tmp/tunelab-doc", project_name="parallel",
    ...                         overwrite=True)
    >>> tuner.search(verbose=0)
    >>> axes = plot_parallel_coordinates(tuner).axes[0].child_axes
    >>> [t.get_text() for t in axes[1].get_yticklabels()]
    ['relu', 'tanh']
    """
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    results = load_results(source)
    need_finished(results, "parallel coordinates")
    drawn = [(n, d) for n, d in columns(results) if d is not None]
    if not drawn:
        raise ValueError("cannot plot parallel coordinates: the search space is empty")
    trials = results.finished
    scores = np.array([float(t.score) for t in trials])  # type: ignore[arg-type]
    low, high = float(scores.min()), float(scores.max())
    norm = Normalize(low, high if high > low else low + 1.0)
    cmap = colormaps["viridis_r" if results.objective.direction == "min" else "viridis"]
    figure = new_figure(max(6.0, 1.7 * (len(drawn) + 1)), 4.5)
    ax = figure.add_subplot()
    xs = list(range(len(drawn) + 1))
    # Draw the best trials last so they are on top.
    goodness = norm(scores) if results.objective.direction == "max" else 1.0 - norm(scores)
    inactive = [False] * len(drawn)
    for i in np.argsort(goodness, kind="stable"):
        values = trials[i].hyperparameters.active_values()
        ys = []
        for k, (name, definition) in enumerate(drawn):
            y = _unit(definition, values.get(name))
            inactive[k] |= y == INACTIVE
            ys.append(y)
        ys.append(float(norm(scores[i])))
        ax.plot(xs, ys, color=cmap(norm(scores[i])), alpha=0.8, linewidth=1.2)
    for k, (_, definition) in enumerate(drawn):
        axis = ax.secondary_yaxis(k / len(drawn))
        ticks = _ticks(definition) + ([(INACTIVE, "inactive")] if inactive[k] else [])
        axis.set_yticks([p for p, _ in ticks], [t for _, t in ticks], fontsize=7)
    score_axis = ax.secondary_yaxis(1.0)
    values = np.linspace(low, high, NUMERIC_TICKS) if high > low else np.array([low])
    score_axis.set_yticks([float(norm(v)) for v in values], [label(float(v)) for v in values])
    score_axis.tick_params(labelsize=7)
    ax.set_xlim(0, len(drawn))
    ax.set_xticks(xs, [n for n, _ in drawn] + [results.objective.name], rotation=20)
    ax.set_yticks([])
    ax.set_ylim(INACTIVE - 0.05, 1.05)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title("Parallel coordinates")
    figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=results.objective.name)
    return finish(figure, path)


def _unit(definition: Any, value: Any) -> float:
    if value is None:
        return INACTIVE
    try:
        return float(definition.to_unit(value))
    except (TypeError, ValueError):
        return INACTIVE


def _ticks(definition: Any) -> list[tuple[float, str]]:
    """Each choice of a categorical axis; five values spread over a numeric range (placed
    where the axis puts them, so a log-sampled axis gets log-spaced values)."""
    if is_categorical(definition):
        return [(float(definition.to_unit(v)), label(v)) for v in choices(definition)]
    values = dict.fromkeys(definition.from_unit(u) for u in np.linspace(0, 1, NUMERIC_TICKS))
    return [(float(definition.to_unit(v)), label(v)) for v in values]
