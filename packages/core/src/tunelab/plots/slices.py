"""Slices (the score against each hyperparameter) and hyperparameter importance bars."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from tunelab.plots.figures import (
    choices,
    columns,
    finish,
    is_categorical,
    label,
    need_finished,
    new_figure,
)
from tunelab.plots.history import choose_scale
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_slice(
    source: Any, path: str | os.PathLike | None = None, params: list[str] | None = None
) -> Figure:
    """The score against each hyperparameter's value (one panel each), colored by trial
    number with a colorbar (light: early trials, dark: late ones), so a search that
    narrows in shows dark points gathering. Log-sampled hyperparameters get a log axis; a
    Choice's or Boolean's panel has one tick per choice, in the order they were defined. The
    score axis is chosen as the history's is (see `tunelab.plots.history.choose_scale`).

    Examples
    --------
    >>> import tunelab as kt
    >>> tuner = kt.RandomSearch(lambda hp: hp.Float("x", 0, 1) ** 2, objective="loss",
    ...                         max_trials=3, seed=0, directory="/tmp/tunelab-doc",
    ...                         project_name="slice", overwrite=True)
    >>> tuner.search(verbose=0)
    >>> figure = plot_slice(tuner)
    >>> figure.axes[-1].get_ylabel()  # the colorbar
    'trial'
    """
    results = load_results(source)
    need_finished(results, "slices")
    drawn = columns(results)
    if params is not None:
        known = [n for n, _ in drawn]
        unknown = [p for p in params if p not in known]
        if unknown:
            raise ValueError(f"params={params!r}: unknown {unknown}; the search has {known}")
        drawn = [(n, d) for n, d in drawn if n in params]
    if not drawn:
        raise ValueError("cannot plot slices: the search has no tunable hyperparameter")
    trials = results.finished
    numbers = [t.number if t.number is not None else i for i, t in enumerate(trials)]
    width = min(4, len(drawn))
    rows = math.ceil(len(drawn) / width)
    figure = new_figure(3.2 * width + 1.0, 2.8 * rows)
    axes = figure.subplots(rows, width, squeeze=False, sharey=True)
    colors = {"cmap": "Blues", "vmin": min(numbers), "vmax": max(max(numbers), min(numbers) + 1)}
    points_drawn = None
    for k, (name, definition) in enumerate(drawn):
        ax = axes[k // width][k % width]
        points = [
            (t.hyperparameters.active_values()[name], float(t.score), n)  # type: ignore[arg-type]
            for t, n in zip(trials, numbers, strict=False)
            if name in t.hyperparameters.active_values()
        ]
        if is_categorical(definition):
            order = choices(definition)
            ax.set_xticks(range(len(order)), [label(v) for v in order])
            ax.set_xlim(-0.5, len(order) - 0.5)
            points = [(order.index(x), y, n) for x, y, n in points if x in order]
        else:
            points = [(x, y, n) for x, y, n in points if isinstance(x, (int, float))]
        if points:
            xs, ys, ns = zip(*points, strict=False)
            points_drawn = ax.scatter(
                xs, ys, c=ns, s=18, edgecolors="0.3", linewidths=0.4, **colors
            )
        if definition is not None and getattr(definition, "sampling", None) == "log":
            ax.set_xscale("log")
        ax.set_xlabel(name)
        if k % width == 0:
            ax.set_ylabel(results.objective.name)
    for k in range(len(drawn), rows * width):
        axes[k // width][k % width].set_visible(False)
    scores = [float(t.score) for t in trials]  # type: ignore[arg-type]
    scale, limits = choose_scale(scores, results.objective.direction)
    axes[0][0].set_yscale(scale)  # the panels share their y axis
    title = "Score by hyperparameter"
    if limits is not None:
        axes[0][0].set_ylim(*limits)
        beyond = sum(not limits[0] <= s <= limits[1] for s in scores)
        title += f" ({beyond} trial{'s' * (beyond > 1)} beyond the score axis)"
    if points_drawn is not None:
        figure.colorbar(points_drawn, ax=axes.ravel().tolist(), label="trial")
    figure.suptitle(title)
    return finish(figure, path)


def plot_importance(
    source: Any, path: str | os.PathLike | None = None, method: str = "fanova"
) -> Figure:
    """Hyperparameter importance as horizontal bars (see `tunelab.importance`)."""
    from tunelab.importance import hyperparameter_importance

    importance = hyperparameter_importance(source, method=method)
    names = list(importance)[::-1]
    figure = new_figure(6, max(2.5, 0.45 * len(names) + 1.2))
    ax = figure.add_subplot()
    ax.barh(names, [importance[n] for n in names], color="tab:blue")
    ax.set_xlabel(f"importance ({method})")
    ax.set_xlim(0, 1)
    ax.set_title("Hyperparameter importance")
    return finish(figure, path)
