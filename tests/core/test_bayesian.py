"""The Bayesian optimization oracle: it beats random search, handles categorical and
conditional spaces, pending trials and failures."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tunelab as kt

BRANIN_MIN = 0.397887


def branin(hp):
    x1 = hp.Float("x1", -5.0, 10.0)
    x2 = hp.Float("x2", 0.0, 15.0)
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _run(oracle, fn, n):
    for _ in range(n):
        trial = oracle.ask()
        if trial is None:
            break
        oracle.tell(trial, fn(trial.hyperparameters))
    return oracle.get_best_trials(1)[0].score


@pytest.mark.slow
def test_beats_random_search_on_branin():
    bo, rs = [], []
    for seed in range(3):
        bo.append(_run(kt.oracles.BayesianOptimizationOracle("loss", 25, seed=seed), branin, 25))
        rs.append(_run(kt.oracles.RandomSearchOracle("loss", 25, seed=seed), branin, 25))
    bo_regret = np.array(bo) - BRANIN_MIN
    rs_regret = np.array(rs) - BRANIN_MIN
    assert np.median(bo_regret) < 0.1
    assert np.median(bo_regret) < np.median(rs_regret) / 3


def test_kerastuner_alias_and_maximization():
    oracle = kt.oracles.BayesianOptimization(
        objective=kt.Objective("score", "max"), max_trials=14, seed=1, num_initial_points=5
    )
    assert isinstance(oracle, kt.oracles.BayesianOptimizationOracle)
    best = _run(oracle, lambda hp: -((hp.Float("x", -3.0, 3.0) - 1.2) ** 2), 14)
    assert best > -0.01  # found x close to 1.2 while maximizing


def test_mixed_categorical_conditional_space_never_repeats_and_stays_in_space():
    def fn(hp):
        kind = hp.Choice("kind", ["sin", "quad", "flat"])
        units = hp.Int("units", 1, 8)
        with hp.conditional_scope("kind", ["sin"]):
            freq = hp.Float("freq", 0.1, 10.0, sampling="log")
        with hp.conditional_scope("kind", ["quad"]):
            center = hp.Float("center", -1.0, 1.0)
        if kind == "sin":
            return math.sin(freq) + units / 8
        if kind == "quad":
            return center**2 + abs(units - 4) / 8 - 1.0
        return 0.5

    oracle = kt.oracles.BayesianOptimizationOracle("loss", 20, seed=3)
    _run(oracle, fn, 20)
    trials = list(oracle.trials.values())
    assert len(trials) == 20
    seen = [tuple(sorted(t.hyperparameters.values.items())) for t in trials]
    assert len(set(seen)) == 20
    for t in trials:
        values = t.hyperparameters.values
        assert ("freq" in values) == (values["kind"] == "sin")
        assert ("center" in values) == (values["kind"] == "quad")
    best = oracle.get_best_trials(1)[0]
    # the global minimum is kind=sin near freq=4.7, units=1 (-1 + 1/8) or quad (-1.0)
    assert best.score < -0.7


def test_pending_trials_get_different_suggestions():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = kt.oracles.BayesianOptimizationOracle(
        "loss", 12, hyperparameters=hp, seed=0, num_initial_points=4
    )
    for _ in range(6):
        trial = oracle.ask()
        oracle.tell(trial, (trial.hyperparameters["x"] - 0.25) ** 2)
    parallel = [oracle.ask() for _ in range(3)]  # three workers, none told yet
    xs = [t.hyperparameters["x"] for t in parallel]
    assert len(set(xs)) == 3
    assert min(abs(a - b) for i, a in enumerate(xs) for b in xs[i + 1 :]) > 1e-3


def test_failed_region_is_avoided():
    def fn(hp):
        x = hp.Float("x", 0.0, 1.0)
        if x > 0.6:
            raise ValueError("unstable")
        return -x  # best just below the failing region

    oracle = kt.oracles.BayesianOptimizationOracle(
        "loss", 20, seed=2, num_initial_points=5, max_consecutive_failed_trials=None
    )
    for _ in range(20):
        trial = oracle.ask()
        try:
            oracle.tell(trial, fn(trial.hyperparameters))
        except ValueError as error:
            oracle.tell(trial, error=error)
    statuses = [t.status for t in oracle.trials.values()]
    assert statuses.count("FAILED") <= 8
    assert oracle.get_best_trials(1)[0].score < -0.5


def test_bayesian_tuner_resumes_and_counts_trials(tmp_path):
    def fn(hp):
        return (hp.Float("x", -2.0, 2.0) - 0.5) ** 2 + (hp.Int("n", 0, 5) - 2) ** 2

    kwargs = dict(objective="loss", seed=0, directory=tmp_path, project_name="bo")
    kt.BayesianOptimization(fn, max_trials=8, **kwargs).search(verbose=0)
    tuner = kt.BayesianOptimization(fn, max_trials=14, **kwargs)
    tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 14
    best = tuner.get_best_hyperparameters()[0]
    assert best["n"] == 2 and abs(best["x"] - 0.5) < 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": -1.0}, "alpha=-1.0; expected a number >= 0"),
        ({"beta": "big"}, "beta='big'; expected a number >= 0"),
        ({"acquisition": "pi"}, "acquisition='pi'; expected one of"),
        ({"num_initial_points": -2}, "num_initial_points=-2; expected an int >= 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kt.oracles.BayesianOptimizationOracle("loss", 5, **kwargs)


def test_the_model_sees_values_log_compressed_in_the_same_order():
    from tunelab.oracles.bayesian import _warp

    y = np.array([3.0, 1.0, 2.0, 1001.0, 1.5])
    warped = _warp(y)
    # Same order and the best at 0; the gap to the best in units of the median gap (1.0).
    assert np.argsort(warped).tolist() == np.argsort(y).tolist()
    assert warped.tolist() == pytest.approx(np.log1p([2.0, 0.0, 1.0, 1000.0, 0.5]).tolist())
    # The outlier no longer dwarfs the others: 1000x the median gap becomes ~10x.
    assert warped.max() / np.median(warped) == pytest.approx(math.log(1001) / math.log(2))
    assert _warp(np.full(4, 2.5)).tolist() == [2.5] * 4  # constant values stay flat


def test_values_without_a_tail_reach_the_model_unwarped():
    from tunelab.oracles.bayesian import _warp

    # Hartmann-like: a flat bulk above one good point; worst gap 1.2 median gaps.
    bulk = np.array([-0.2, -0.5, -1.1, -3.0, -0.8, -0.3])
    assert _warp(bulk).tolist() == bulk.tolist()
    # Just past twice the median gap the tail is compressed.
    tail = np.array([0.0, 1.0, 1.0, 1.0, 2.1])
    assert _warp(tail).tolist() == pytest.approx(np.log1p([0.0, 1.0, 1.0, 1.0, 2.1]).tolist())


def test_define_by_run_small_integer_space_runs_every_trial(tmp_path):
    # The space is unknown until the first trial registers it, so the initial design's
    # points can land on a value already tried; the search must draw another, not stop
    # with "exhausted" while untried values remain.
    def objective(hp):
        depth = hp.Int("depth", 1, 4)
        return {"loss": (depth - 2.5) ** 2}

    tuner = kt.BayesianOptimization(
        objective, objective="loss", max_trials=4, seed=0, directory=tmp_path, project_name="dbr"
    )
    tuner.search(verbose=0)
    tried = sorted(t.hyperparameters.values["depth"] for t in tuner.oracle.trials.values())
    assert tried == [1, 2, 3, 4]
