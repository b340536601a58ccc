"""The Bayesian oracle's trust region: its side replayed from the stored values, the
acquisition kept inside it, and what it buys in many dimensions."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tunelab as kt
from tunelab.oracles.acquisition import optimize_acquisition


def _oracle(**kwargs):
    return kt.oracles.BayesianOptimizationOracle("loss", max_trials=60, seed=0, **kwargs)


def test_side_doubles_after_three_wins_and_halves_after_patience():
    oracle = _oracle()
    # 2 initial values, then 3 improvements in a row: 0.8 -> 1.6 (the maximum).
    assert oracle._trust_region_side(np.array([5.0, 4.0, 3.0, 2.0, 1.0]), 2, 4) == 1.6
    # 4 dimensions: patience max(4, 4) = 4 trials without improvement halve the side.
    assert oracle._trust_region_side(np.array([1.0, 2.0, 2.0, 2.0, 2.0, 2.0]), 1, 4) == 0.4
    # 20 dimensions: the patience is 20 trials.
    flat = np.r_[1.0, np.full(19, 2.0)]
    assert oracle._trust_region_side(flat, 1, 20) == 0.8
    assert oracle._trust_region_side(np.r_[flat, 2.0], 1, 20) == 0.4


def test_side_starts_again_below_the_minimum():
    oracle = _oracle()
    # 6 halvings leave 0.8 / 64 above 0.5**7; the 7th would go below, so it starts again.
    stuck = np.r_[0.0, np.full(4 * 6, 1.0)]
    assert oracle._trust_region_side(stuck, 1, 4) == pytest.approx(0.8 / 2**6)
    assert oracle._trust_region_side(np.r_[stuck, np.full(4, 1.0)], 1, 4) == 0.8


def test_optimize_acquisition_stays_in_the_box():
    def acq(Z):  # best at the origin, outside the box
        return -np.sum(Z**2, axis=1)

    box = (np.array([0.3, 0.5]), np.array([0.6, 0.9]))
    x = optimize_acquisition(acq, 2, rng=np.random.default_rng(0), box=box)
    assert np.all(x >= box[0]) and np.all(x <= box[1])
    assert np.allclose(x, [0.3, 0.5], atol=1e-6)  # the box's best corner
    with pytest.raises(ValueError, match=r"box must be two arrays of shape \(2,\)"):
        optimize_acquisition(acq, 2, rng=np.random.default_rng(0), box=(np.zeros(2), np.zeros(3)))


def _ackley(x):
    return (
        -20 * math.exp(-0.2 * math.sqrt(float(np.mean(x**2))))
        - math.exp(float(np.mean(np.cos(2 * math.pi * x))))
        + 20
        + math.e
    )


@pytest.mark.slow
def test_trust_region_helps_in_twelve_dimensions():
    """Ackley-12 with its minimum off the centre, 80 trials, 3 seeds: the search with the box
    (the default from 6 dimensions) ends lower than the same search without it."""
    shift = np.random.default_rng(7).uniform(-10, 10, 12)

    def run(seed, **kwargs):
        oracle = kt.oracles.BayesianOptimizationOracle("loss", max_trials=80, seed=seed)
        for name, value in kwargs.items():
            setattr(oracle, name, value)
        while (trial := oracle.ask()) is not None:
            hp = trial.hyperparameters
            x = np.array([hp.Float(f"x{i}", -32.768, 32.768) for i in range(12)])
            oracle.tell(trial, _ackley(x - shift))
        return oracle.get_best_trials(1)[0].score

    with_box, without = [], []
    for seed in range(3):
        with_box.append(run(seed))
        without.append(run(seed, trust_region_dims=99, trust_region_every=0))
    assert np.median(with_box) < np.median(without) - 1.0, (with_box, without)


def test_box_leaves_discrete_dimensions_whole():
    """With a narrow box on every model-based trial, the integer and the choice still take
    several values while the float stays near the best trial's."""
    oracle = kt.oracles.BayesianOptimizationOracle("loss", max_trials=40, seed=3)
    oracle.trust_region_dims = 1  # the box on every model-based trial
    oracle.tr_init = oracle.tr_max = 0.05
    seen = []
    while (trial := oracle.ask()) is not None:
        hp = trial.hyperparameters
        x = hp.Float("x", 0.0, 1.0)
        n = hp.Int("n", 0, 9)
        kind = hp.Choice("kind", ["a", "b", "c"])
        seen.append((x, n, kind))
        oracle.tell(trial, (x - 0.3) ** 2 + 0.01 * (n - 4) ** 2 + (kind != "b") * 0.05)
    late = seen[20:]
    assert len({n for _, n, _ in late}) >= 3
    assert len({kind for _, _, kind in late}) >= 2
    assert max(x for x, _, _ in late) - min(x for x, _, _ in late) <= 0.1
