"""Learning curves: a metric per step (epoch), one line per trial, continuations joined."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tunelab.objective import infer_direction
from tunelab.plots.figures import finish, new_figure, require_matplotlib
from tunelab.plots.history import choose_scale
from tunelab.results import load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tunelab.trial import Trial

# Legend entries beyond this many lineages would hide the plot: the best ones are named and
# the legend's title counts the others.
LEGEND_ENTRIES = 10
PARENT = "tuner/trial_id"


def _lineages(trials: list[Trial]) -> dict[str, list[Trial]]:
    """Trials grouped by the first trial of their chain of continuations (Hyperband's
    ``tuner/trial_id``), each group in the order it was trained."""
    by_id = {str(t.trial_id): t for t in trials}

    def root(trial: Trial) -> str:
        seen = {str(trial.trial_id)}
        while (parent := trial.hyperparameters.values.get(PARENT)) in by_id and parent not in seen:
            trial = by_id[parent]
            seen.add(str(trial.trial_id))
        return str(trial.trial_id)

    groups: dict[str, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(root(trial), []).append(trial)
    return groups


def _points(trial: Trial, metric: str) -> list[tuple[int, float]]:
    return [(o.step, o.mean()) for o in trial.metrics.get_history(metric)]


def plot_learning_curves(
    source: Any, path: str | os.PathLike | None = None, metric: str | None = None
) -> Figure:
    """A metric per step (epoch), one line per trial that reported it step by step.

    A trial that continues another (Hyperband's ``tuner/trial_id``) starts from its
    parent's point at the step before its own first step, in its parent's color, so a
    configuration trained over several rounds reads as one curve. The legend names each
    such chain (``trial 2 → 7``), the best first (at most 10; its title counts the rest);
    the step axis has integer ticks. The metric's axis is chosen as the history's is (see
    `tunelab.plots.history.choose_scale`): logarithmic over decades, and fitted to the other
    curves when a few diverge (the title counts the curves that leave the axis). Each line's ``gid`` is its trial's id (an ``id`` in SVG).

    Examples
    --------
    >>> import tunelab as kt
    >>> def train(hp, trial):
    ...     rate = hp.Float("rate", 0.1, 1.0)
    ...     for epoch in range(3):
    ...         trial.report({"loss": 1.0 / (1 + rate * epoch)}, step=epoch)
    >>> tuner = kt.RandomSearch(train, objective="loss", max_trials=2, seed=0,
    ...                         directory="/tmp/tunelab-doc", project_name="curves",
    ...                         overwrite=True)
    >>> tuner.search(verbose=0)
    >>> ax = plot_learning_curves(tuner).axes[0]
    >>> len(ax.lines), [t.get_text() for t in ax.get_legend().get_texts()][0][:6]
    (2, 'trial ')
    """
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    results = load_results(source)
    names = results.metric_names()
    if metric is None:
        metric = results.objective.name if results.objective.name in names else None
        metric = metric or (names[0] if names else None)
    if metric is None or metric not in names:
        raise ValueError(f"metric={metric!r}: not reported by any trial; reported: {names}")
    reporting = [t for t in results.trials if metric in t.metrics.metrics]
    groups = _lineages(reporting)
    sign = -1.0 if results.objective.direction == "max" and metric == results.objective.name else 1
    ranked = sorted(
        groups.values(),
        key=lambda group: min(
            (sign * y for t in group for _, y in _points(t, metric)), default=float("inf")
        ),
    )
    palette = colormaps["tab10" if len(ranked) <= 10 else "tab20"]
    ends = {t.trial_id: _points(t, metric) for t in reporting}
    figure = new_figure(7.5, 4.2)
    ax = figure.add_subplot()
    for rank, group in enumerate(ranked):
        color = palette(rank % palette.N)
        name = "trial " + " → ".join(str(t.trial_id) for t in group)
        for position, trial in enumerate(group):
            points = list(ends[trial.trial_id])
            parent = trial.hyperparameters.values.get(PARENT)
            if not points:
                continue
            if parent in ends and ends[parent]:
                before = [p for p in ends[parent] if p[0] < points[0][0]] or ends[parent]
                points.insert(0, before[-1])
            first = position == 0 and rank < LEGEND_ENTRIES
            ax.plot(
                *zip(*points, strict=False),
                marker=".",
                color=color,
                alpha=0.85,
                gid=trial.trial_id,
                label=name if first else "_continuation",
            )
    values = [y for points in ends.values() for _, y in points]
    direction = results.objective.direction if metric == results.objective.name else None
    scale, limits = choose_scale(values, direction or infer_direction(metric) or "min")
    ax.set_yscale(scale)
    title = f"Learning curves ({len(reporting)} trials"
    if limits is not None:
        ax.set_ylim(*limits)
        beyond = sum(any(not limits[0] <= y <= limits[1] for _, y in p) for p in ends.values())
        title += f"; {beyond} leave the axis"
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(title + ")")
    more = len(ranked) - LEGEND_ENTRIES
    ax.legend(
        fontsize=7,
        title=f"best {LEGEND_ENTRIES}; {more} more not listed" if more > 0 else None,
        title_fontsize=7,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    return finish(figure, path)
