"""Bayesian optimization with a Gaussian process over the unit hypercube."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from tunelab.checks import check_number
from tunelab.hyperparameters import Boolean, Choice, Fixed, HyperParameter
from tunelab.oracles.base import Oracle
from tunelab.oracles.multi_objective import (
    objectives_of,
    rank_trials,
    scalarization_weights,
    scalarize,
)
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.oracles.gaussian_process import GaussianProcess

__all__ = ["BayesianOptimizationOracle"]

_ACQUISITIONS = ("log_ei", "ucb")


def _is_categorical(hp: HyperParameter) -> bool:
    return isinstance(hp, Boolean) or (isinstance(hp, Choice) and not hp.ordered)


class BayesianOptimizationOracle(Oracle):
    """Bayesian optimization: a Gaussian process models the objective; each trial goes where
    the acquisition function is highest.

    The model is a Matérn-5/2 Gaussian process with one length scale per dimension, fit by
    marginal likelihood, on the unit-cube encoding of the space. Unordered choices and
    booleans are compared as categories (same or different), not as numbers. A conditional
    hyperparameter that is inactive in a trial sits at the middle of its range for the model.
    Failed and invalid trials count as the worst value seen, so the search moves away from
    them. Trials still running elsewhere (other workers) count by their possible outcomes:
    expected improvement is averaged over outcomes the model draws for them, so parallel
    workers get different suggestions and a point next to a running trial is worth only
    what that trial's result would leave to gain.

    In a Pareto search over an objective list (``pareto=True``), or with `constraints`,
    the model sees a random scalarization of the objectives drawn anew at each trial
    instead of the summed score: the search looks for the front, as `ParEGOOracle` (which
    is this oracle with ``pareto=True`` by default and a shorter random start).

    Parameters
    ----------
    objective, max_trials, seed, hyperparameters, allow_new_entries, tune_new_entries,
    max_retries_per_trial, max_consecutive_failed_trials, initial_trials, directory,
    project_name, overwrite
        See `Oracle`.
    num_initial_points : int, optional
        Trials placed by the initial design before the model is used (default: twice the
        number of dimensions plus two, at most a fifth of max_trials, at least 3).
    alpha : float
        Noise floor added to the kernel diagonal, in units of the standardized values
        (KerasTuner's meaning); the model fits the noise above it. The default, 1e-6, is
        lower than KerasTuner's 1e-4: with a deterministic objective a floor of 1e-4 kept
        the model from telling apart the last digits near the optimum (10 seeds at 100
        trials: Hartmann-6 median regret 0.0016 -> 0.00004, Branin 0.00016 -> 0.000015).
    beta : float
        Exploration weight of the upper-confidence-bound acquisition.
    acquisition : {"log_ei", "ucb"}
        Log expected improvement (default) or upper confidence bound with `beta`.
    initial_design : {"sobol", "lhs", "random"}
        How the initial points are spread (default Sobol).

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = kt.oracles.BayesianOptimizationOracle(objective="loss", max_trials=12, seed=0)
    >>> for _ in range(12):
    ...     trial = oracle.ask()
    ...     x = trial.hyperparameters.Float("x", -2.0, 2.0)
    ...     _ = oracle.tell(trial, (x - 0.7) ** 2)
    >>> round(oracle.get_best_trials()[0].hyperparameters["x"], 1)
    0.7
    """

    default_initial_design = "sobol"
    # Fit the model to a log-compressed copy of the values (same order, same best).
    warp_outputs = True
    # How trials still running elsewhere count: "fantasies" (log-EI averaged over outcomes
    # drawn for them, see oracles/fantasies.py), or one made-up value each: "mean" (constant
    # liar at the mean observed value), "min", "max", or "believer" (the model's prediction).
    # With UCB, "fantasies" falls back to "mean" (UCB is linear in the mean: averaging over
    # outcomes gives the believer's value). Simulated 2 workers, 30 trials, 10 seeds, mean
    # log10 regret against sequential (benchmarks/parallel_bayesian.py): fantasies +0.18,
    # the mean liar +0.27 (better on Hartmann-6, Levy-4, Rosenbrock-4; worse on the mixed
    # space, even on Branin). Real workers, 20 seeds (benchmarks/parallel.py): best val_loss
    # +0.0006 against sequential with fantasies, +0.0026 with the mean liar.
    _pending_lie = "fantasies"
    # Acquisition candidates drawn around each of the three best observations, besides the
    # Sobol set: at small budgets most of the gain is in polishing a good basin, and 2048
    # space-filling points rarely land close enough to the incumbent to do it.
    local_candidates = 64
    # A Pareto search's scalarization (see ParEGOOracle): the weight of the sum, and what
    # spans [0, 1] in each objective.
    rho = 0.05
    normalize = "front"
    # Trust region (TuRBO's idea, Eriksson et al., 2019): the acquisition is maximized only
    # inside a box around the best point, whose side doubles after `tr_successes`
    # improvements in a row and halves after max(`tr_failures`, dimensions) trials without
    # one; below `tr_min` it starts again at `tr_init`. A global model in many dimensions
    # spends its trials on the box's corners, where its uncertainty is largest and the
    # objective rarely is best; in few dimensions a global step still finds other basins, so
    # there every `trust_region_every`-th trial is local and the others global. The box's
    # state is replayed from the stored trials, so it survives a restart and is the same in
    # every worker. 10 seeds (benchmarks/search_quality), median regret, global only -> with
    # the box: Ackley-20 (shifted, rotated) at 200 trials 19.8 -> 11.8, Ackley-10 at 100
    # 7.8 -> 5.9, Hartmann-6 at 30 0.27 -> 0.11, Ackley-5 at 30 11.9 -> 7.4, Levy-4 at 100
    # 0.032 -> 0.0032 (Levy-4 at 30: 1.5 -> 2.0).
    trust_region_dims = 6
    trust_region_every = 2
    tr_init, tr_min, tr_max = 0.8, 0.5**7, 1.6
    tr_successes, tr_failures = 3, 4
    # From this many dimensions the model has one length scale for all of them: with a few
    # points per dimension, one scale each is more than the data can pin down. Ackley-20
    # (shifted, rotated) at 200 trials, 10 seeds, median regret 16.6 -> 6.5 (with the box).
    isotropic_dims = 16

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-6,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: Any = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        acquisition: str = "log_ei",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            num_initial_points=num_initial_points,
            **kwargs,
        )
        check_number("alpha", alpha, 0)
        check_number("beta", beta, 0)
        if acquisition not in _ACQUISITIONS:
            raise ValueError(f"acquisition={acquisition!r}; expected one of {_ACQUISITIONS}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.acquisition = acquisition
        self._user_initial_points = num_initial_points
        self._gp: GaussianProcess | None = None
        self._gp_key: tuple[str, ...] = ()
        self._encoded: dict[str, np.ndarray] = {}
        self._encoded_key: tuple[str, ...] = ()

    def _initial_points(self, dim: int) -> int:
        if self._user_initial_points is not None:
            return self._user_initial_points
        n = 2 * dim + 2
        if self.max_trials is not None:
            n = min(n, max(3, self.max_trials // 5))
        return max(3, n)

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, space: list[HyperParameter], values: dict[str, Any]) -> np.ndarray:
        row = np.full(len(space), 0.5)
        for column, hp in enumerate(space):
            # A value from an older, different definition keeps the middle.
            if hp.name in values:
                with contextlib.suppress(ValueError):
                    row[column] = hp.to_unit(hp.validate(values[hp.name]))
        return row

    def _scalarizes(self) -> bool:
        """Whether the model sees a random scalarization of the objectives (ParEGO's) rather
        than the score: a Pareto search over several objectives, or one with constraints."""
        return bool(self.constraints) or (self.pareto and len(objectives_of(self.objective)) > 1)

    def weights(self, number: int, count: int) -> np.ndarray:
        """The scalarization weights of trial `number` (see `scalarization_weights`)."""
        return scalarization_weights(self._base_seed, number, count)

    def _observations(self, space: list[HyperParameter], number: int) -> tuple[Any, ...]:
        """Observed points, their values to minimize, the pending points, and how many of
        the observations are finished trials (the first ones, in trial order; failed trials
        follow at the worst value)."""
        trials = self.study.storage.get_trials()
        key = tuple(hp.get_config().__repr__() for hp in space)
        if key != self._encoded_key:  # encodings hold only for the space they were made in
            self._encoded, self._encoded_key = {}, key

        def encode(stored: Any) -> np.ndarray:
            # Every suggestion rereads all trials; encoding each once keeps that a
            # dictionary lookup (a third of a suggestion's time at 100 trials).
            point = self._encoded.get(stored.values_json)
            if point is None:
                point = self._encoded[stored.values_json] = self._encode(space, stored.values)
            return point

        if self._scalarizes():
            ranking = rank_trials(self.study.storage, self.objective, self.constraints, trials)
            done = [encode(t) for t in ranking.trials]
            weights = self.weights(number, ranking.minimized.shape[1])
            values = list(scalarize(ranking, weights, self.rho, self.normalize))
            used = {t.trial_id for t in ranking.trials}
        else:
            sign = -1.0 if self.objective.direction == "max" else 1.0
            done, values, used = [], [], set()
            for stored in trials:
                if stored.status == TrialStatus.COMPLETED and stored.score is not None:
                    done.append(encode(stored))
                    values.append(sign * stored.score)
                    used.add(stored.trial_id)
        failed, pending = [], []
        for stored in trials:
            if stored.number == number or stored.trial_id in used:
                continue
            if stored.status in (TrialStatus.FAILED, TrialStatus.INVALID):
                failed.append(encode(stored))
            elif stored.status in (TrialStatus.RUNNING, TrialStatus.IDLE):
                pending.append(encode(stored))
        X = np.array(done).reshape(len(done), len(space))
        y = np.array(values, dtype=float)
        finished = len(y)
        if failed and len(y):
            X = np.vstack([X, np.array(failed)])
            y = np.concatenate([y, np.full(len(failed), y.max())])
        X_pending = np.array(pending).reshape(len(pending), len(space))
        return X, y, X_pending, finished

    # -- the one method an oracle implements --------------------------------------------
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        return self._response(self._propose(self._trial_for(trial_id)))

    def _propose(self, trial: Trial) -> dict[str, Any]:
        space = [hp for hp in self.hyperparameters.space if not isinstance(hp, Fixed)]
        dim = len(space)
        n_initial = self._initial_points(dim)
        number = trial.number or 0
        if dim == 0 or number < n_initial:
            self.num_initial_points = n_initial
            unit = self._full_unit(self.design_point(trial))
        else:
            X, y, X_pending, finished = self._observations(space, number)
            if len(y) < 2:
                return self.random_values(trial)
            side = None
            local = dim >= self.trust_region_dims or (
                self.trust_region_every and number % self.trust_region_every == 0
            )
            if local and not self._scalarizes():
                side = self._trust_region_side(y[:finished], n_initial, dim)
            with _one_blas_thread():
                suggestion = self._suggest(space, X, y, X_pending, self.rng(trial), side)
            unit = self._full_unit(suggestion, space)
        if unit is None:
            return self.random_values(trial)
        values = self.random_values(trial, unit)
        # A design point or a suggestion can repeat a tried configuration (a small integer
        # space, or one that grew while trials ran, define-by-run); the base class would ask
        # again and get the same point every time, so draw at random instead.
        return values if not self.tried(values) else self.random_values(trial)

    def _full_unit(
        self, unit: np.ndarray | None, space: list[HyperParameter] | None = None
    ) -> np.ndarray | None:
        """Spread a point over the tunable dimensions into one over the whole space (Fixed
        hyperparameters get a placeholder coordinate)."""
        if unit is None:
            return None
        full = self.hyperparameters.space
        if space is None:  # a design point is drawn over the whole space already
            return unit
        by_name = dict(zip([hp.name for hp in space], unit, strict=True))
        return np.array([by_name.get(hp.name, 0.5) for hp in full])

    def _trust_region_side(self, y: np.ndarray, n_initial: int, dim: int) -> float:
        """The trust region's side (a fraction of the unit cube's) after the finished
        values `y`, in trial order: replayed from the first model-based trial on."""
        side, wins, losses = self.tr_init, 0, 0
        patience = max(self.tr_failures, dim)
        best = float(np.min(y[:n_initial])) if n_initial else np.inf
        for value in y[n_initial:]:
            if value < best - 1e-3 * abs(best):
                wins, losses = wins + 1, 0
            else:
                wins, losses = 0, losses + 1
            best = min(best, float(value))
            if wins >= self.tr_successes:
                side, wins = min(2.0 * side, self.tr_max), 0
            elif losses >= patience:
                side, losses = side / 2.0, 0
                if side < self.tr_min:
                    side = self.tr_init
        return side

    def _suggest(
        self,
        space: list[HyperParameter],
        X: np.ndarray,
        y: np.ndarray,
        X_pending: np.ndarray,
        rng: np.random.Generator,
        side: float | None = None,
    ) -> np.ndarray | None:
        # Imported here: scipy.optimize takes a second to import, and only this needs it.
        from tunelab.oracles.fantasies import FantasyPosterior
        from tunelab.oracles.gaussian_process import (
            GaussianProcess,
            fantasize,
            log_expected_improvement,
            upper_confidence_bound,
        )

        categorical = {
            i: len(hp.grid_values()) for i, hp in enumerate(space) if _is_categorical(hp)
        }
        key = tuple(hp.name for hp in space)
        if self._gp is None or key != self._gp_key:
            self._gp = GaussianProcess(
                alpha=self.alpha,
                seed=self._base_seed,
                categorical=categorical,
                isotropic=len(space) >= self.isotropic_dims,
            )
            self._gp_key = key
        if self.warp_outputs:
            y = _warp(y)
        gp = self._gp.fit(X, y)
        best = float(y.min())
        box = None
        if side is not None:
            box = _box_around(X[np.argmin(y)], side, gp.length_scales_)
            # Choices, booleans and integers keep every value: a box means nothing across
            # categories, and over a handful of integers it holds one or two of them (the
            # four scikit-learn tasks at 30 trials, 10 seeds: boxing only the categorical
            # ones left GradientBoosting's median log-loss at 0.071 instead of 0.055).
            free = [i for i, hp in enumerate(space) if hp.is_discrete]
            box[0][free], box[1][free] = 0.0, 1.0
        if len(X_pending) and self._pending_lie == "fantasies" and self.acquisition == "log_ei":
            posterior = FantasyPosterior(gp, X_pending, rng=rng)

            def acquisition(Z: np.ndarray) -> np.ndarray:
                return posterior.log_expected_improvement(Z, best)

            return self._optimize(space, acquisition, X, y, X_pending, rng, box)
        if len(X_pending):
            if self._pending_lie == "believer":
                # Kriging believer: each pending point takes the model's own prediction.
                X_aug = np.vstack([X, X_pending])
                y_aug = np.concatenate([y, gp.predict(X_pending, return_std=False)])
            else:
                lie = "mean" if self._pending_lie == "fantasies" else self._pending_lie
                X_aug, y_aug = fantasize(X, y, X_pending, lie)
            gp.fit(X_aug, y_aug, optimize_hyperparameters=False)
        if self.acquisition == "ucb":

            def acquisition(Z: np.ndarray) -> np.ndarray:
                mean, std = gp.predict(Z)
                return upper_confidence_bound(mean, std, self.beta)
        else:

            def acquisition(Z: np.ndarray) -> np.ndarray:
                mean, std = gp.predict(Z)
                return log_expected_improvement(mean, std, best)

        return self._optimize(space, acquisition, X, y, X_pending, rng, box)

    def _optimize(
        self,
        space: list[HyperParameter],
        acquisition: Any,
        X: np.ndarray,
        y: np.ndarray,
        X_pending: np.ndarray,
        rng: np.random.Generator,
        box: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray | None:
        from tunelab.oracles.acquisition import optimize_acquisition

        discrete = [i for i, hp in enumerate(space) if hp.is_discrete]
        exclude = np.vstack([X, X_pending]) if len(X_pending) else X
        # A point within 1% of the range of a running trial (in every dimension) would
        # learn next to nothing that trial does not; tried points only must not repeat.
        distance = np.r_[np.full(len(X), 1e-6), np.full(len(X_pending), _PENDING_DISTANCE)]
        extra = _near_best(X, y, self.local_candidates, rng) if self.local_candidates else None
        return optimize_acquisition(
            acquisition,
            len(space),
            rng=rng,
            exclude=exclude,
            min_distance=distance,
            discrete_dims=discrete,
            snap=_snapper(space),
            extra_candidates=extra,
            box=box,
        )


def _box_around(
    center: np.ndarray, side: float, length_scales: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A box of mean side `side` around `center`, longer along the dimensions where the
    model's length scales are longer (their geometric mean scales to 1), inside [0, 1]."""
    weights = np.asarray(length_scales, float)
    weights = weights / np.exp(np.mean(np.log(weights)))
    half = 0.5 * side * np.clip(weights, 0.25, 4.0)
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def _near_best(X: np.ndarray, y: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` points around each of the three best observations.

    The basin's width is unknown, so each point's step size is drawn log-uniformly between
    0.005 and 0.2 of the unit range: some candidates polish the incumbent, others probe
    just beyond it.
    """
    best = X[np.argsort(y, kind="stable")[:3]]
    scale = np.exp(rng.uniform(np.log(0.005), np.log(0.2), size=(len(best), count, 1)))
    points = best[:, None, :] + scale * rng.standard_normal((len(best), count, X.shape[1]))
    return np.clip(points, 0.0, 1.0).reshape(-1, X.shape[1])


_PENDING_DISTANCE = 0.01
_BLAS_CONTROLLER: Any = None


def _one_blas_thread() -> Any:
    """A context that runs BLAS on one thread, where threadpoolctl is installed (it comes
    with scikit-learn; the core does not require it).

    The model's matrices are small (a few hundred rows), so BLAS threads gain nothing on an
    idle machine, and on a busy one, e.g. next to joblib's or an executor's workers, their
    spinning made a 30-trial search 2-3x slower.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        # The model's module first: scipy brings its own BLAS, which the controller sees
        # only if it is loaded when the controller is made.
        import tunelab.oracles.gaussian_process  # noqa: F401

        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _BLAS_CONTROLLER = False
        else:
            _BLAS_CONTROLLER = ThreadpoolController()
    if _BLAS_CONTROLLER is False:
        return contextlib.nullcontext()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def _warp(y: np.ndarray) -> np.ndarray:
    """Compress the bad tail of the values to minimize, keeping their order.

    Objectives often span decades (a diverged run, Rosenbrock's valley walls); standardized
    as they are, a few huge values make every good point look alike, the model grows
    overconfident near the incumbent and the search stops exploring (seen on the benchmark's
    mixed space, stuck for 80 trials in a suboptimal category). ``log1p`` of the gap to the
    best value, in units of the median gap, keeps the good region's shape and turns the tail
    logarithmic.

    Values without such a tail (the worst gap within `_TAIL_RATIO` median gaps, as on
    Hartmann-6 or Ackley, where a flat bulk sits above a narrow good region) are returned
    as they are: there is nothing to compress, and the logarithm only bends the slope that
    leads from the bulk down to the best points (10 seeds at 30 trials without it: Ackley-5
    median regret 15.3 -> 10.8, Hartmann-6 0.50 -> 0.37; Rosenbrock-4 and the mixed space,
    which have tails, got 30 and 100 times worse when unwarped).
    """
    gap = y - y.min()
    scale = float(np.median(gap))
    if not scale > 0:
        scale = float(gap.max()) or 1.0
    if gap.max() <= _TAIL_RATIO * scale:
        return y
    return np.log1p(gap / scale)


# On 20 random points the worst gap to the best is 1.1-1.7 median gaps for Hartmann-6 and
# Ackley, 3-6 for Levy-4, Rosenbrock-4, Branin and the mixed space.
_TAIL_RATIO = 2.0


def _snapper(space: list[HyperParameter]) -> Any:
    """Maps points to the encodings of the values they decode to (discrete bin centres)."""
    discrete = [(i, hp) for i, hp in enumerate(space) if hp.is_discrete]
    if not discrete:
        return None

    def snap(Z: np.ndarray) -> np.ndarray:
        Z = np.array(Z, dtype=float, copy=True)
        for i, hp in discrete:
            Z[:, i] = [hp.to_unit(hp.from_unit(u)) for u in Z[:, i]]
        return Z

    return snap
