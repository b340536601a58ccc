"""Expected improvement averaged over drawn outcomes of pending trials (FantasyPosterior)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunelab.oracles.acquisition import log_expected_improvement, optimize_acquisition
from tunelab.oracles.fantasies import FantasyPosterior
from tunelab.oracles.gaussian_process import GaussianProcess


def branin(X: np.ndarray) -> np.ndarray:
    x1, x2 = 15.0 * X[:, 0] - 5.0, 15.0 * X[:, 1]
    b, c = 5.1 / (4 * math.pi**2), 5.0 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - 1 / (8 * math.pi)) * np.cos(x1) + 10.0


@pytest.fixture
def fitted() -> tuple[GaussianProcess, np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).random((20, 2))
    y = np.log(branin(X))
    return GaussianProcess(seed=0).fit(X, y), X, y


def test_draws_follow_the_predictive_distribution_of_the_pending_point(fitted):
    gp, X, y = fitted
    pending = np.array([[0.55, 0.15]])
    posterior = FantasyPosterior(gp, pending, n_draws=256, rng=np.random.default_rng(0))
    mean, std = gp.predict(pending)
    noise_std = math.sqrt(gp.noise_variance_) * gp.y_std_
    # best_drawn holds the drawn outcomes themselves when there is one pending point.
    drawn = posterior.best_drawn
    assert drawn.mean() == pytest.approx(mean[0], abs=0.05 * std[0] + 1e-9)
    assert drawn.std() == pytest.approx(math.hypot(std[0], noise_std), rel=0.05)


def _conditioned(gp: GaussianProcess, X: np.ndarray, y: np.ndarray, Z: np.ndarray) -> tuple:
    """The GP's posterior at Z given (X, y), at its fitted hyperparameters and units, by a
    dense solve (the reference the fast paths are checked against)."""
    s2, noise, m, s = gp.signal_variance_, gp.noise_variance_, gp.y_mean_, gp.y_std_
    K = s2 * gp.correlation(X, X) + noise * np.eye(len(X))
    K_star = s2 * gp.correlation(Z, X)
    mean = K_star @ np.linalg.solve(K, (y - m) / s) * s + m
    var = s2 - np.einsum("ij,ji->i", K_star, np.linalg.solve(K, K_star.T))
    return mean, np.sqrt(np.maximum(var, 0.0)) * s


def test_each_draw_is_the_model_conditioned_on_that_outcome(fitted):
    """Draw by draw, the means are those of the model conditioned on the observations plus
    the drawn outcome (same hyperparameters and units); the spread is the same for all."""
    gp, X, y = fitted
    Z = np.random.default_rng(2).random((50, 2))
    mean, std = _conditioned(gp, X, y, Z)  # first the reference against the plain model
    np.testing.assert_allclose(np.c_[gp.predict(Z)], np.c_[mean, std], rtol=1e-6, atol=1e-9)
    pending = np.array([[0.4, 0.6]])
    posterior = FantasyPosterior(gp, pending, n_draws=4, rng=np.random.default_rng(1))
    means, std = posterior.predict(Z)
    for k, outcome in enumerate(posterior.best_drawn):
        ref_mean, ref_std = _conditioned(gp, np.vstack([X, pending]), np.r_[y, outcome], Z)
        np.testing.assert_allclose(means[:, k], ref_mean, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(std, ref_std, rtol=1e-6, atol=1e-9)
    assert np.ptp(posterior.best_drawn) > 0.1 * std.max()  # the draws differ


def test_a_pending_point_is_no_longer_worth_evaluating(fitted):
    gp, X, y = fitted
    best = float(y.min())

    def plain(Z: np.ndarray) -> np.ndarray:
        mean, std = gp.predict(Z)
        return log_expected_improvement(mean, std, best)

    first = optimize_acquisition(plain, 2, rng=np.random.default_rng(0), exclude=X)
    posterior = FantasyPosterior(gp, first[None], rng=np.random.default_rng(0))
    here = posterior.log_expected_improvement(first[None], best)[0]
    assert here < plain(first[None])[0] - 1.0  # more than e times less improvement expected

    second = optimize_acquisition(
        lambda Z: posterior.log_expected_improvement(Z, best),
        2,
        rng=np.random.default_rng(0),
        exclude=np.vstack([X, first]),
    )
    assert np.max(np.abs(second - first)) > 0.02
    # Elsewhere the expected improvement shrinks too, as the drawn outcomes there can beat
    # the incumbent, but far less than at the pending point.
    elsewhere = posterior.log_expected_improvement(second[None], best)[0]
    assert elsewhere > here + 1.0


def test_bad_pending_points_are_refused(fitted):
    gp, _, _ = fitted
    with pytest.raises(ValueError, match=r"X_pending must have shape \(k >= 1, 2\)"):
        FantasyPosterior(gp, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"X_pending must have shape"):
        FantasyPosterior(gp, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="n_draws=0"):
        FantasyPosterior(gp, np.zeros((1, 2)), n_draws=0)


def test_pending_points_keep_a_wider_berth_than_tried_ones():
    """optimize_acquisition takes one exclusion distance per row: the maximum of a concave
    score sits on an excluded row, and the result keeps that row's distance."""

    def peak(Z: np.ndarray) -> np.ndarray:
        return -np.sum((Z - 0.5) ** 2, axis=1)

    rng = np.random.default_rng(0)
    centre = np.array([[0.5, 0.5]])
    near = optimize_acquisition(peak, 2, rng=rng, exclude=centre, min_distance=1e-6)
    wide = optimize_acquisition(peak, 2, rng=rng, exclude=centre, min_distance=np.array([0.01]))
    assert 1e-6 < np.max(np.abs(near - 0.5)) < 0.01 < np.max(np.abs(wide - 0.5)) < 0.05
