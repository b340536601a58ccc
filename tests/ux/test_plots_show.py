"""What each plot shows, read back from the matplotlib objects of a figure drawn from a real
search: axis scales, tick labels, colorbars, legend entries and the lines' points."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import tunelab as kt
from tunelab import plots


def _finished(tuner: kt.BaseTuner) -> list[kt.Trial]:
    trials = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    return sorted(trials, key=lambda t: t.number)


def _colorbars(figure) -> list:  # noqa: ANN001
    return [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]


def test_history_of_scores_over_decades_is_on_a_log_axis(tmp_path: Path) -> None:
    tuner = kt.RandomSearch(
        lambda hp: {"loss": 10.0 ** hp.Float("exponent", -4.0, 2.0)},
        objective="loss",
        max_trials=8,
        seed=0,
        directory=tmp_path,
        project_name="decades",
    )
    tuner.search(verbose=0)
    scores = [t.score for t in _finished(tuner)]
    assert max(scores) / min(scores) > 100  # the search really spans decades
    ax = plots.plot_optimization_history(tuner).axes[0]
    assert ax.get_yscale() == "log"
    assert np.allclose(ax.collections[0].get_offsets()[:, 1], scores)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["score", "best so far"]


def test_history_clips_a_diverged_trial_and_counts_it(tmp_path: Path) -> None:
    def train(hp: kt.HyperParameters) -> dict[str, float]:
        i = hp.Int("i", 0, 9)
        return {"loss": 1e5 if i == 9 else i / 10}  # the last one diverged

    tuner = kt.GridSearch(train, objective="loss", directory=tmp_path, project_name="clip")
    tuner.search(verbose=0)
    assert len(_finished(tuner)) == 10
    ax = plots.plot_optimization_history(tuner).axes[0]
    assert ax.get_yscale() == "linear"
    low, high = ax.get_ylim()
    assert -0.2 < low < 0 and 0.8 < high < 1.0  # fitted to the nine, not to 1e5
    kept, clipped = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    assert sorted(kept[:, 1]) == pytest.approx([i / 10 for i in range(9)])
    assert len(clipped) == 1 and clipped[0][1] == pytest.approx(high)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["score", "1 clipped (above the axis)", "best so far"]


def test_parallel_coordinates_label_every_axis(project: kt.RandomSearch) -> None:
    figure = plots.plot_parallel_coordinates(project)
    ax = figure.axes[0]
    finished = _finished(project)
    assert len(ax.lines) == len(finished) == 11
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "units", "activation", "loss"]
    x_axis, units_axis, activation_axis, score_axis = ax.child_axes
    assert [t.get_text() for t in activation_axis.get_yticklabels()] == ["relu", "tanh"]
    assert [t.get_text() for t in x_axis.get_yticklabels()] == ["-4", "-2", "0", "2", "4"]
    units = [int(t.get_text()) for t in units_axis.get_yticklabels()]
    assert units[0] == 8 and units[-1] == 64 and units == sorted(units)
    scores = [t.score for t in finished]
    ends = [float(t.get_text()) for t in score_axis.get_yticklabels()]
    assert ends[0] == pytest.approx(min(scores), rel=1e-2)
    assert ends[-1] == pytest.approx(max(scores), rel=1e-2)
    # Each line crosses the activation axis at its trial's choice.
    tanh_at = activation_axis.get_yticks()[1]
    crossing_tanh = sum(math.isclose(line.get_ydata()[2], tanh_at) for line in ax.lines)
    assert crossing_tanh == sum(t.hyperparameters.get("activation") == "tanh" for t in finished)
    assert [c.ax.get_ylabel() for c in [figure.axes[-1]._colorbar]] == ["loss"]  # noqa: SLF001


def test_parallel_coordinates_mark_inactive_values(tmp_path: Path) -> None:
    def train(hp: kt.HyperParameters) -> float:
        model = hp.Choice("model", ["linear", "tree"])
        with hp.conditional_scope("model", "tree"):
            depth = hp.Int("depth", 1, 5) if model == "tree" else 0
        return float(depth) + (model == "tree")

    tuner = kt.RandomSearch(
        train, objective="loss", max_trials=8, seed=2, directory=tmp_path, project_name="cond"
    )
    tuner.search(verbose=0)
    ax = plots.plot_parallel_coordinates(tuner).axes[0]
    labels = [t.get_text() for t in ax.child_axes[1].get_yticklabels()]
    assert labels[-1] == "inactive" and labels[0] == "1"
    linear = sum(t.hyperparameters.get("model") == "linear" for t in _finished(tuner))
    assert 0 < linear < 8
    below = sum(line.get_ydata()[1] < 0 for line in ax.lines)
    assert below == linear


def test_slice_has_a_colorbar_of_trial_numbers(project: kt.RandomSearch) -> None:
    figure = plots.plot_slice(project)
    (colorbar,) = _colorbars(figure)
    assert colorbar.get_ylabel() == "trial"
    finished = _finished(project)
    numbers = [t.number for t in finished]
    panels = [ax for ax in figure.axes if ax.get_visible() and ax not in _colorbars(figure)]
    assert [ax.get_xlabel() for ax in panels] == ["x", "units", "activation"]
    for ax in panels:
        (points,) = ax.collections
        assert list(points.get_array()) == numbers  # colored by trial number
        assert points.get_clim() == (min(numbers), max(numbers))
    activation = panels[2]
    assert [t.get_text() for t in activation.get_xticklabels()] == ["relu", "tanh"]
    chosen = [["relu", "tanh"][int(x)] for x in activation.collections[0].get_offsets()[:, 0]]
    assert chosen == [t.hyperparameters.get("activation") for t in finished]


def test_slice_of_a_log_sampled_value_is_on_a_log_axis(curves: kt.oracles.Oracle) -> None:
    (panel,) = [ax for ax in plots.plot_slice(curves).axes if ax.get_label() != "<colorbar>"]
    assert panel.get_xscale() == "log" and panel.get_xlabel() == "rate"


@pytest.fixture
def hyperband(tmp_path: Path) -> kt.Hyperband:
    """A Hyperband search of a function that reports one loss per epoch it trains."""

    def train(hp: kt.HyperParameters, trial: kt.Trial) -> None:
        rate = hp.Float("rate", 0.1, 1.0)
        start, stop = hp.get("tuner/initial_epoch"), hp.get("tuner/epochs")
        for epoch in range(start, stop):
            trial.report({"loss": math.exp(-rate * (epoch + 1))}, step=epoch)

    tuner = kt.Hyperband(
        train, objective="loss", max_epochs=9, factor=3, seed=1, directory=tmp_path,
        project_name="hb",
    )  # fmt: skip
    tuner.search(verbose=0)
    return tuner


def test_learning_curves_join_continuations_to_their_parent(hyperband: kt.Hyperband) -> None:
    trials = {t.trial_id: t for t in hyperband.oracle.trials.values()}
    continued = {i: t for i, t in trials.items() if "tuner/trial_id" in t.hyperparameters.values}
    assert len(continued) >= 3
    ax = plots.plot_learning_curves(hyperband).axes[0]
    assert len(ax.lines) == len(trials)
    line_of = {line.get_gid(): line for line in ax.lines}  # each line's id is its trial's
    for trial_id, trial in trials.items():
        history = trial.metrics.get_history("loss")
        assert list(line_of[trial_id].get_ydata()[-len(history) :]) == [o.mean() for o in history]
    for trial_id, trial in continued.items():
        parent = trial.hyperparameters.get("tuner/trial_id")
        child, mother = line_of[trial_id], line_of[parent]
        first_step = trial.hyperparameters.get("tuner/initial_epoch")
        assert child.get_xdata()[0] == first_step - 1 == mother.get_xdata()[-1]
        assert child.get_ydata()[0] == mother.get_ydata()[-1]
        assert child.get_color() == mother.get_color()
    assert all(float(x).is_integer() for x in ax.get_xticks())
    legend = ax.get_legend()
    roots = len(trials) - len(continued)
    assert len(legend.get_texts()) == min(roots, 10)
    assert legend.get_title().get_text() == (
        f"best 10; {roots - 10} more not listed" if roots > 10 else ""
    )
    chained = [t.get_text() for t in legend.get_texts() if "→" in t.get_text()]
    assert chained  # the best configurations were continued: "trial 0003 → 0009 → ..."


def test_learning_curves_name_each_trial(curves: kt.oracles.Oracle) -> None:
    ax = plots.plot_learning_curves(curves).axes[0]
    names = sorted(t.get_text() for t in ax.get_legend().get_texts())
    assert names == sorted(f"trial {i}" for i in curves.trials)
    assert len(ax.lines) == 3


def test_learning_curves_and_slices_clip_a_diverged_trial(tmp_path: Path) -> None:
    def train(hp: kt.HyperParameters, trial: kt.Trial) -> None:
        i = hp.Int("i", 0, 5)
        for epoch in range(3):
            loss = 1e4 * (epoch + 1) if i == 5 else (i + 1) / (epoch + 1) / 10
            trial.report({"loss": loss}, step=epoch)

    tuner = kt.GridSearch(train, objective="loss", directory=tmp_path, project_name="div")
    tuner.search(verbose=0)
    ax = plots.plot_learning_curves(tuner).axes[0]
    assert ax.get_title() == "Learning curves (6 trials; 1 leave the axis)"
    assert ax.get_ylim()[1] < 1.0  # fitted to the five that trained well
    figure = plots.plot_slice(tuner)
    assert figure.get_suptitle() == "Score by hyperparameter (1 trial beyond the score axis)"
    assert figure.axes[0].get_ylim()[1] < 1.0
