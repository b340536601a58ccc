"""Plots of a search (matplotlib, an optional dependency: ``pip install 'matplotlib>=3.6'``,
or ``pip install './packages/core[plot]'`` from a checkout).

Each function takes a tuner, an oracle, a project path or a list of trials, returns a
matplotlib `Figure`, and saves it when given ``path=`` (PNG or SVG, from the suffix). Figures
are built without pyplot, so plotting never opens a window or changes global state; in a
notebook, display the returned figure.

Kinds: ``history`` (score per trial and best so far, on a log axis or with outliers clipped
when the spread is large), ``parallel`` (parallel coordinates, each axis with its own tick
labels), ``importance`` (hyperparameter importance), ``slice`` (score against each
hyperparameter, colored by trial number), ``curves`` (learning curves: a metric per step,
one line per trial, Hyperband's continuations joined to their parent).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tunelab.plots.curves import plot_learning_curves
from tunelab.plots.figures import IMAGE_FORMATS, save_figure
from tunelab.plots.figures import finish as _finish
from tunelab.plots.figures import need_finished as _need_finished
from tunelab.plots.figures import new_figure as _figure
from tunelab.plots.history import plot_optimization_history
from tunelab.plots.parallel import plot_parallel_coordinates
from tunelab.plots.slices import plot_importance, plot_slice
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "IMAGE_FORMATS",
    "KINDS",
    "plot",
    "plot_importance",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_slice",
    "save_figure",
]

# Kept for modules that draw their own plot with the same figure settings.
_SHARED = (_figure, _finish, _need_finished)

KINDS = {
    "history": plot_optimization_history,
    "parallel": plot_parallel_coordinates,
    "importance": plot_importance,
    "slice": plot_slice,
    "curves": plot_learning_curves,
}


def plot(source: Any, kind: str = "history", path: str | os.PathLike | None = None) -> Figure:
    """Draw one of `KINDS` (``history``, ``parallel``, ``importance``, ``slice``,
    ``curves``) and save it when `path` is given.

    Examples
    --------
    >>> import tunelab as kt
    >>> trial = kt.Trial(kt.HyperParameters(), "0", "COMPLETED")
    >>> trial.number, trial.score = 0, 1.5
    >>> plot([trial], "history").axes[0].get_title()
    'Optimization history'
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {sorted(KINDS)}")
    return KINDS[kind](load_results(source), path=path)
