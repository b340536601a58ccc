"""Small finished projects for the user-experience tests (plain function objectives, fast)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import tunelab as kt


def quadratic(hp: kt.HyperParameters) -> dict[str, float]:
    """A loss that depends strongly on x, weakly on units and not on the activation."""
    x = hp.Float("x", -4.0, 4.0)
    units = hp.Int("units", 8, 64, step=8)
    hp.Choice("activation", ["relu", "tanh"])
    return {"loss": (x - 1.0) ** 2 + units / 640.0, "width": float(units)}


@pytest.fixture
def curves(tmp_path: Path) -> kt.oracles.RandomSearchOracle:
    """An ask/tell project whose trials report val_loss = exp(-rate * epoch) per epoch."""
    space = kt.HyperParameters()
    space.Float("rate", 0.05, 0.5, sampling="log")
    oracle = kt.oracles.RandomSearchOracle(
        objective="val_loss",
        max_trials=3,
        hyperparameters=space,
        seed=1,
        directory=tmp_path,
        project_name="curves",
    )
    while (trial := oracle.ask()) is not None:
        rate = trial.hyperparameters.get("rate")
        for epoch in range(4):
            trial.report({"val_loss": math.exp(-rate * (epoch + 1))}, step=epoch)
        oracle.tell(trial)
    return oracle


@pytest.fixture
def project(tmp_path: Path) -> kt.RandomSearch:
    """A finished 12-trial random search over three hyperparameters, one failed trial."""
    calls = {"n": 0}

    def objective(hp: kt.HyperParameters) -> dict[str, float]:
        result = quadratic(hp)
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("diverged: loss is nan")
        return result

    tuner = kt.RandomSearch(
        objective,
        objective="loss",
        max_trials=12,
        seed=3,
        max_consecutive_failed_trials=None,
        directory=tmp_path,
        project_name="quad",
    )
    tuner.search(verbose=0)
    return tuner
