"""Expected improvement with trials still running: averaged over their possible outcomes.

A constant "liar" gives every pending trial one made-up value. Here the model draws many
outcomes for the pending trials from its own posterior (jointly, with observation noise),
conditions on each draw with the hyperparameters fixed, and averages expected improvement
over the draws; in each draw the incumbent is the better of the best observation and the
drawn outcomes. A candidate next to a pending trial then scores what it would add *given*
that trial's result: little where the model is sure, more where the pending result could
go either way. This is the integrated acquisition of Snoek, Larochelle and Adams (2012) for
asynchronous workers, computed in closed form per draw.

The posterior standard deviation does not depend on the drawn values, so one kernel matrix
and one factorization serve all draws: the extra cost over a plain suggestion is a matrix
of weights with one column per draw.

Examples
--------
>>> import numpy as np
>>> from tunelab.oracles.gaussian_process import GaussianProcess
>>> rng = np.random.default_rng(0)
>>> X = rng.random((10, 2))
>>> y = np.sum((X - 0.3) ** 2, axis=1)
>>> gp = GaussianProcess(seed=0).fit(X, y)
>>> posterior = FantasyPosterior(gp, np.array([[0.3, 0.3]]), n_draws=8, rng=rng)
>>> posterior.log_expected_improvement(np.array([[0.3, 0.3], [0.9, 0.9]]), float(y.min())).shape
(2,)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg, special
from scipy.stats import qmc

from tunelab.oracles.acquisition import log_expected_improvement

if TYPE_CHECKING:
    from tunelab.oracles.gaussian_process import GaussianProcess

__all__ = ["FantasyPosterior"]


class FantasyPosterior:
    """The posterior of a fitted `gp` after the pending points' outcomes, one per draw.

    Parameters
    ----------
    gp : GaussianProcess
        Fitted on the finished trials only.
    X_pending : ndarray of shape (k, d)
        Points being evaluated elsewhere.
    n_draws : int, default=16
        Outcomes drawn for the pending points (scrambled Sobol normals: with one pending
        point 16 draws cover its predictive distribution evenly).
    rng : numpy.random.Generator, optional
    """

    def __init__(
        self,
        gp: GaussianProcess,
        X_pending: np.ndarray,
        n_draws: int = 16,
        rng: np.random.Generator | None = None,
    ) -> None:
        from tunelab.oracles.gaussian_process import _cholesky

        P = np.asarray(X_pending, dtype=float)
        if P.ndim != 2 or len(P) == 0 or P.shape[1] != gp.X_train_.shape[1]:
            raise ValueError(
                f"X_pending must have shape (k >= 1, {gp.X_train_.shape[1]}), got {P.shape}"
            )
        if int(n_draws) < 1:
            raise ValueError(f"n_draws={n_draws!r}; expected an integer >= 1")
        rng = rng if rng is not None else np.random.default_rng()
        self.gp = gp
        s2, noise = gp.signal_variance_, gp.noise_variance_
        X = gp.X_train_
        # Joint predictive distribution of the pending outcomes (standardized units).
        K_xp = s2 * gp.correlation(X, P)
        mean_p = K_xp.T @ gp._weights
        V = gp._L_inv @ K_xp
        cov_p = s2 * gp.correlation(P, P) - V.T @ V + noise * np.eye(len(P))
        normals = special.ndtri(
            qmc.Sobol(len(P), scramble=True, seed=rng).random(int(n_draws)).clip(1e-6, 1 - 1e-6)
        )
        draws = mean_p[:, None] + _cholesky(cov_p) @ normals.T  # (k, n_draws)
        # Condition on every draw at once: same kernel matrix, one column of targets each.
        X_aug = np.vstack([X, P])
        K = s2 * gp.correlation(X_aug, X_aug)
        K[np.diag_indices(len(X_aug))] += noise
        L = _cholesky(K)
        targets = np.vstack([np.repeat(gp._ys[:, None], draws.shape[1], axis=1), draws])
        self._weights = linalg.cho_solve((L, True), targets, check_finite=False)
        self._L_inv = linalg.solve_triangular(L, np.eye(len(K)), lower=True, check_finite=False)
        self._X_aug = X_aug
        # The best drawn outcome of each draw, in the units of y.
        self.best_drawn = draws.min(axis=0) * gp.y_std_ + gp.y_mean_

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means, shape ``(m, n_draws)``, and the standard deviation, ``(m,)``."""
        K_star = self.gp.correlation(np.asarray(Z, dtype=float), self._X_aug)
        return self.gp._posterior(K_star, self._weights, self._L_inv)

    def log_expected_improvement(self, Z: np.ndarray, best: float) -> np.ndarray:
        """Log of the expected improvement below the incumbent, averaged over the draws."""
        means, std = self.predict(Z)
        incumbent = np.minimum(best, self.best_drawn)
        log_ei = log_expected_improvement(means, std[:, None], incumbent[None, :])
        return special.logsumexp(log_ei, axis=1) - math.log(log_ei.shape[1])
