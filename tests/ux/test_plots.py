"""Plots: each kind returns a matplotlib Figure drawn from the trials and saves PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tunelab as kt
from tunelab import plots


@pytest.mark.parametrize("kind", sorted(plots.KINDS))
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_every_kind_saves_an_image(
    project: kt.RandomSearch, tmp_path: Path, kind: str, suffix: str
) -> None:
    path = tmp_path / f"{kind}.{suffix}"
    figure = plots.plot(project, kind, path)
    assert figure.axes
    data = path.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    else:
        assert b"<svg" in data[:2000]


def test_history_draws_the_scores_and_the_best_so_far(project: kt.RandomSearch) -> None:
    figure = plots.plot_optimization_history(project)
    ax = figure.axes[0]
    finished = [t for t in project.oracle.trials.values() if t.status == "COMPLETED"]
    scores = np.array([t.score for t in sorted(finished, key=lambda t: t.number)])
    points = ax.collections[0].get_offsets()
    assert np.allclose(points[:, 1], scores)
    assert np.allclose(ax.lines[0].get_ydata(), np.minimum.accumulate(scores))
    assert ax.get_ylabel() == "loss"


def test_learning_curves_one_line_per_trial(curves: kt.oracles.RandomSearchOracle) -> None:
    figure = plots.plot_learning_curves(curves)
    lines = figure.axes[0].lines
    assert len(lines) == 3
    assert all(list(line.get_xdata()) == [0, 1, 2, 3] for line in lines)


def test_slice_panels_per_hyperparameter(project: kt.RandomSearch) -> None:
    figure = plots.plot_slice(project, params=["x", "units"])
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert [ax.get_xlabel() for ax in panels] == ["x", "units"]
    with pytest.raises(ValueError, match=r"unknown \['depth'\]"):
        plots.plot_slice(project, params=["depth"])


def test_clear_errors(project: kt.RandomSearch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind='pie'; expected one of"):
        plots.plot(project, "pie")
    with pytest.raises(ValueError, match=r"expected a file name ending in \.png or \.svg"):
        plots.plot(project, "history", tmp_path / "h.jpg")
    with pytest.raises(ValueError, match="metric='accuracy': not reported"):
        plots.plot_learning_curves(project, metric="accuracy")
    with pytest.raises(ValueError, match="no finished trial"):
        plots.plot_optimization_history([kt.Trial(kt.HyperParameters(), "0", "FAILED")])
