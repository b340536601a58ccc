"""Behaviour of the GP regressor, acquisition functions and acquisition optimizer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm, qmc

from tunelab.oracles.gaussian_process import (
    GaussianProcess,
    fantasize,
    log_expected_improvement,
    optimize_acquisition,
    upper_confidence_bound,
)

BRANIN_MIN = 0.397887357729738


def branin(X: np.ndarray) -> np.ndarray:
    """Branin on the unit square (x1 in [-5, 10], x2 in [0, 15])."""
    x1, x2 = 15.0 * X[:, 0] - 5.0, 15.0 * X[:, 1]
    b, c = 5.1 / (4 * math.pi**2), 5.0 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - 1 / (8 * math.pi)) * np.cos(x1) + 10.0


def smooth(X: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * X[:, 0]) + np.cos(2.0 * X[:, 1])


def bo_best(seed: int, n_init: int = 8, n_iter: int = 22) -> float:
    """Best Branin value after a GP + log-EI loop; the way an oracle would use the module."""
    rng = np.random.default_rng(seed)
    X = qmc.Sobol(2, scramble=True, seed=seed).random(n_init)
    y = branin(X)
    gp = GaussianProcess(seed=seed)
    for _ in range(n_iter):
        gp.fit(X, y)
        best = y.min()

        def acq(Z: np.ndarray, best: float = best) -> np.ndarray:
            mean, std = gp.predict(Z)
            return log_expected_improvement(mean, std, best)

        x = optimize_acquisition(acq, 2, rng=rng, exclude=X)
        assert x is not None
        X = np.vstack([X, x])
        y = np.r_[y, branin(x[None])]
    return float(y.min())


# -- GaussianProcess ---------------------------------------------------------------------


def test_gp_interpolates_and_is_uncertain_away_from_data():
    X = qmc.Sobol(2, scramble=True, seed=0).random(32)[:30] * 0.5  # data in [0, .5]^2 only
    y = smooth(X)
    gp = GaussianProcess(seed=0).fit(X, y)
    mean, std = gp.predict(X)
    np.testing.assert_allclose(mean, y, atol=1e-2)
    assert std.max() < 0.02
    inside = np.array([[0.2, 0.3], [0.4, 0.1]])
    np.testing.assert_allclose(gp.predict(inside)[0], smooth(inside), atol=0.02)
    _, far_std = gp.predict(np.array([[1.0, 1.0], [0.95, 0.9]]))
    assert far_std.min() > 10 * std.max()


def test_predict_mean_only_and_original_units():
    X = np.linspace(0, 1, 10)[:, None]
    y = 1000.0 + 50.0 * X[:, 0]
    gp = GaussianProcess(seed=0).fit(X, y)
    mean = gp.predict(np.array([[0.55]]), return_std=False)
    assert isinstance(mean, np.ndarray)
    np.testing.assert_allclose(mean, [1027.5], atol=0.5)


def test_length_scales_detect_irrelevant_dimensions():
    rng = np.random.default_rng(1)
    X = rng.random((40, 3))
    y = np.sin(6.0 * X[:, 0])
    gp = GaussianProcess(seed=1).fit(X, y)
    ls = gp.length_scales_
    assert ls[1] > 10 * ls[0] and ls[2] > 10 * ls[0], ls


@pytest.mark.parametrize("alpha", [1e-4, 0.0])
def test_duplicate_rows_are_stable(alpha):
    rng = np.random.default_rng(2)
    X = rng.random((10, 2))
    X = np.vstack([X, X, X[:3]])  # every point at least twice
    y = smooth(X)
    gp = GaussianProcess(alpha=alpha, seed=0).fit(X, y)
    mean, std = gp.predict(rng.random((50, 2)))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)
    np.testing.assert_allclose(gp.predict(X[:10])[0], y[:10], atol=0.05)


def test_constant_targets_give_flat_finite_model():
    X = np.random.default_rng(3).random((12, 3))
    gp = GaussianProcess(seed=0).fit(X, np.full(12, 7.5))
    mean, std = gp.predict(np.random.default_rng(4).random((20, 3)))
    np.testing.assert_allclose(mean, 7.5, atol=1e-6)
    assert np.all(np.isfinite(std))


def test_single_observation():
    gp = GaussianProcess(seed=0).fit(np.array([[0.5, 0.5]]), np.array([2.0]))
    mean, std = gp.predict(np.array([[0.5, 0.5], [0.0, 1.0]]))
    assert mean[0] == pytest.approx(2.0, abs=1e-3) and np.all(np.isfinite(std))


def test_refit_warm_start_is_reproducible_and_close_to_a_fresh_fit():
    rng = np.random.default_rng(5)
    X = rng.random((30, 2))
    y = smooth(X)
    warm = GaussianProcess(seed=0).fit(X[:28], y[:28]).fit(X, y)
    fresh = GaussianProcess(seed=0).fit(X, y)
    assert warm.log_marginal_likelihood_ == pytest.approx(fresh.log_marginal_likelihood_, abs=0.5)
    again = GaussianProcess(seed=0).fit(X[:28], y[:28]).fit(X, y)
    np.testing.assert_array_equal(warm.length_scales_, again.length_scales_)


def test_categorical_column_predicts_category_means():
    rng = np.random.default_rng(6)
    n = 36
    cat = rng.integers(0, 3, n)
    X = np.column_stack([rng.random(n), (cat + 0.5) / 3])
    effect = np.array([0.0, 2.0, -1.0])
    y = 0.3 * X[:, 0] + effect[cat]
    for categorical in ([1], {1: 3}):
        gp = GaussianProcess(seed=0, categorical=categorical).fit(X, y)
        query = np.column_stack([np.full(3, 0.5), (np.arange(3) + 0.5) / 3])
        np.testing.assert_allclose(gp.predict(query)[0], 0.15 + effect, atol=0.05)
    # With the number of categories known, unsnapped values fall into their bin.
    off_centre = np.array([[0.5, 0.40], [0.5, 0.99]])
    np.testing.assert_allclose(gp.predict(off_centre)[0], 0.15 + effect[[1, 2]], atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"alpha": -1.0}, "alpha"), ({"n_restarts": 0}, "n_restarts")],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianProcess(**kwargs)


def test_bad_inputs_are_rejected():
    gp = GaussianProcess()
    with pytest.raises(RuntimeError, match="before fit"):
        gp.predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="y must be"):
        gp.fit(np.zeros((3, 2)), np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="categorical column 5"):
        GaussianProcess(categorical=[5]).fit(np.zeros((3, 2)), np.ones(3))
    gp.fit(np.random.default_rng(0).random((4, 2)), np.arange(4.0))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gp.predict(np.zeros((1, 3)))


# -- acquisition functions ---------------------------------------------------------------


def test_log_ei_matches_closed_form():
    mean = np.array([0.0, 0.5, 1.0, 2.0, -1.0, 3.0])
    std = np.array([1.0, 0.3, 2.0, 0.5, 0.1, 1.0])
    best = 0.7
    z = (best - mean) / std
    ei = std * (z * norm.cdf(z) + norm.pdf(z))
    np.testing.assert_allclose(log_expected_improvement(mean, std, best), np.log(ei), rtol=1e-10)


def test_log_ei_is_finite_and_monotone_deep_in_the_tail():
    z = np.array([-5.0, -20.0, -40.0, -1e3, -1e9])
    out = log_expected_improvement(-z, np.ones_like(z), 0.0)
    assert np.all(np.isfinite(out))
    assert np.all(np.diff(out) < 0)
    # Asymptotically EI ~ pdf(z) / z^2.
    assert out[2] == pytest.approx(norm.logpdf(-40.0) - 2 * math.log(40.0), rel=1e-3)
    assert np.isfinite(log_expected_improvement(np.array([5.0]), np.array([0.0]), 0.0)[0])


@given(
    st.floats(-50, 50),
    st.floats(1e-3, 1e3),
    st.floats(-50, 50),
)
@settings(max_examples=200, deadline=None)
def test_log_ei_never_nan_and_increases_with_lower_mean(mean, std, best):
    a = log_expected_improvement(np.array([mean, mean - 1.0]), np.array([std, std]), best)
    assert np.all(np.isfinite(a)) and a[1] >= a[0]


def test_ucb_sign_and_ordering():
    mean = np.array([1.0, 0.0, 0.0])
    std = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(upper_confidence_bound(mean, std, 2.0), [-1.0, 0.0, 2.0])
    # Lower mean is better; with equal means, more uncertainty is better.
    assert np.all(np.diff(upper_confidence_bound(mean, std)) > 0)


# -- acquisition optimizer ---------------------------------------------------------------


def concave(Z: np.ndarray) -> np.ndarray:
    return -np.sum((Z - 0.3) ** 2, axis=1)


def test_optimize_acquisition_finds_interior_maximum():
    x = optimize_acquisition(concave, 3, rng=np.random.default_rng(0), n_candidates=256)
    assert x is not None and x.shape == (3,)
    np.testing.assert_allclose(x, 0.3, atol=1e-3)


def test_optimize_acquisition_stays_in_the_cube():
    def wants_out(Z: np.ndarray) -> np.ndarray:
        return np.sum(Z, axis=1) - 3.0 * Z[:, 0]  # maximum at (0, 1, 1)

    x = optimize_acquisition(wants_out, 3, rng=np.random.default_rng(1), n_candidates=128)
    assert x is not None and np.all((x >= 0.0) & (x <= 1.0))
    np.testing.assert_allclose(x, [0.0, 1.0, 1.0], atol=1e-6)


def test_optimize_acquisition_respects_exclude():
    rng = np.random.default_rng(2)
    exclude = np.array([[0.3, 0.3], [0.9, 0.1]])
    x = optimize_acquisition(concave, 2, rng=rng, exclude=exclude, min_distance=1e-3)
    assert x is not None
    assert np.max(np.abs(x - exclude), axis=1).min() > 1e-3
    # The refined optimum is the excluded point, so the best allowed candidate wins.
    np.testing.assert_allclose(x, 0.3, atol=1e-2)
    assert concave(x[None])[0] > -1e-4


def test_optimize_acquisition_keeps_discrete_dims_and_reports_exhaustion():
    def snap(Z: np.ndarray) -> np.ndarray:  # column 1 is a 2-way choice
        Z = Z.copy()
        Z[:, 1] = (np.floor(Z[:, 1] * 2).clip(0, 1) + 0.5) / 2
        return Z

    rng = np.random.default_rng(3)
    x = optimize_acquisition(concave, 2, rng=rng, discrete_dims=[1], snap=snap)
    assert x is not None
    np.testing.assert_allclose(x, [0.3, 0.25], atol=1e-3)
    # A space with only the discrete column and both values tried is exhausted.
    one_dim = optimize_acquisition(
        lambda Z: -Z[:, 0], 1, rng=rng, discrete_dims=[0], exclude=np.array([[0.25], [0.75]]),
        snap=lambda Z: (np.floor(Z * 2).clip(0, 1) + 0.5) / 2,
    )  # fmt: skip
    assert one_dim is None


@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_optimize_acquisition_never_returns_an_excluded_point(dim, seed):
    rng = np.random.default_rng(seed)
    exclude = rng.random((20, dim))
    exclude[0] = 0.3  # the true maximum is taken

    x = optimize_acquisition(concave, dim, rng=rng, n_candidates=64, exclude=exclude)
    assert x is not None and np.all((x >= 0) & (x <= 1))
    assert np.max(np.abs(x - exclude), axis=1).min() > 1e-6


def test_optimize_acquisition_validates_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="discrete_dims"):
        optimize_acquisition(concave, 2, rng=rng, discrete_dims=[2])
    with pytest.raises(ValueError, match=r"exclude must have shape \(k, 4\)"):
        optimize_acquisition(concave, 4, rng=rng, exclude=np.zeros((4, 2)))
    x = optimize_acquisition(concave, 2, rng=rng, n_candidates=16, exclude=np.empty((0, 2)))
    assert x is not None


# -- pending points and the full loop ----------------------------------------------------


def test_fantasize_spreads_parallel_suggestions():
    rng = np.random.default_rng(7)
    X = rng.random((15, 2))
    y = branin(X)
    gp = GaussianProcess(seed=0).fit(X, y)

    def suggest() -> np.ndarray:
        def acq(Z: np.ndarray) -> np.ndarray:
            mean, std = gp.predict(Z)
            return log_expected_improvement(mean, std, y.min())

        x = optimize_acquisition(acq, 2, rng=np.random.default_rng(0), exclude=X)
        assert x is not None
        return x

    first = suggest()
    X_aug, y_aug = fantasize(X, y, first[None], strategy="min")
    assert X_aug.shape == (16, 2) and y_aug[-1] == y.min()
    gp.fit(X_aug, y_aug, optimize_hyperparameters=False)
    second = suggest()
    assert np.max(np.abs(second - first)) > 0.01
    assert fantasize(X, y, None)[0].shape == (15, 2)
    assert fantasize(X, y, first[None], strategy="max")[1][-1] == y.max()
    with pytest.raises(ValueError, match="X_pending must have shape"):
        fantasize(X, y, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="strategy"):
        fantasize(X, y, first[None], strategy="median")  # type: ignore[arg-type]


def test_bo_on_branin_reaches_low_regret():
    # Measured: 2e-4 for seed 0, below 0.02 for each of seeds 0-11.
    assert bo_best(seed=0) - BRANIN_MIN < 0.05


def test_bo_beats_random_search_on_branin():
    seeds = range(4)
    bo = [bo_best(seed) for seed in seeds]
    rand = [branin(np.random.default_rng(seed).random((30, 2))).min() for seed in seeds]
    # Measured regrets: BO 2e-4..7e-3, random search 0.45..4.6 (median 1.3).
    assert np.median(bo) - BRANIN_MIN < 0.05
    assert np.median(rand) - BRANIN_MIN > 1.0
    assert max(bo) < min(rand)


def _ackley_unit(U: np.ndarray) -> np.ndarray:
    """Ackley on [-32.768, 32.768]^d, from the unit cube: a cone covered in ripples."""
    x = (U - 0.5) * 65.536
    bowl = -20.0 * np.exp(-0.2 * np.sqrt(np.mean(x**2, axis=1)))
    return bowl - np.exp(np.mean(np.cos(2 * np.pi * x), axis=1)) + 20.0 + math.e


@pytest.mark.parametrize("seed", range(4))
def test_length_scale_prior_keeps_few_rugged_points_from_extreme_fits(seed, monkeypatch):
    # 15 Ackley values in 5 dimensions: the likelihood alone sends some length scales to
    # the upper bound (the dimension "does not matter") and others near the lower one.
    rng = np.random.default_rng(seed)
    X = rng.random((15, 5))
    y = _ackley_unit(X)
    gp = GaussianProcess(seed=0).fit(X, y)
    assert np.all((gp.length_scales_ > 0.05) & (gp.length_scales_ < 5.0))
    assert gp.noise_variance_ < 0.01

    import tunelab.oracles.gaussian_process as module

    monkeypatch.setattr(module, "PRIOR_LOG_SD", 1e6)  # a flat prior: plain likelihood
    monkeypatch.setattr(module, "NOISE_RATE", 0.0)
    mle = GaussianProcess(seed=0).fit(X, y)
    assert mle.length_scales_.max() > 20.0


def test_extra_candidates_reach_a_peak_the_sobol_set_misses():
    # A tent of half-width 0.01 in 4 dimensions: 2048 Sobol points miss it and see zero
    # everywhere, so only candidates placed near it can find it.
    peak = np.array([0.123, 0.877, 0.456, 0.789])

    def tent(Z: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - np.max(np.abs(Z - peak), axis=1) / 0.01)

    near = peak + 0.005 * np.random.default_rng(1).standard_normal((64, 4))
    blind = optimize_acquisition(tent, 4, rng=np.random.default_rng(0))
    helped = optimize_acquisition(tent, 4, rng=np.random.default_rng(0), extra_candidates=near)
    assert np.abs(blind - peak).max() > 0.1
    assert np.abs(helped - peak).max() < 1e-3


def test_isotropic_fit_has_one_length_scale_and_fits_a_radial_function():
    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    y = np.sqrt(np.sum((X - 0.4) ** 2, axis=1))
    iso = GaussianProcess(seed=0, isotropic=True).fit(X, y)
    ard = GaussianProcess(seed=0).fit(X, y)
    assert np.allclose(iso.length_scales_, iso.length_scales_[0])
    assert not np.allclose(ard.length_scales_, ard.length_scales_[0])
    Z = rng.random((200, 6))
    truth = np.sqrt(np.sum((Z - 0.4) ** 2, axis=1))

    def error(gp):
        return np.sqrt(np.mean((gp.predict(Z, return_std=False) - truth) ** 2))

    # On a function that depends on the distance only, the one-scale model predicts better.
    assert error(iso) < error(ard) and error(iso) < 0.25 * truth.std()
