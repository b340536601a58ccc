"""Tune the options of a SciPy optimizer, with ask/tell and with a function objective.

The code being tuned is `scipy.optimize.minimize` on the 3-dimensional Rosenbrock function,
started from a fixed set of random points. The hyperparameters are the optimizer's own
options: the method, how the gradient is obtained (only for gradient methods: a conditional
hyperparameter), the iteration limit and the tolerance. The loss trades accuracy for work:

    loss = log10(worst final value over the start points) + mean evaluations / 500

so every 500 function evaluations cost one decimal digit of accuracy.

The same search runs twice with the same seed:

1. ask/tell: a `RandomSearchOracle` with a `directory`, driven by a plain loop. The trials
   are in a SQLite store, so a second oracle opened on the same folder sees all of them.
2. a function objective: `kt.RandomSearch(optimizer_cost, ...)`, with the start points
   passed through `tuner.search(starts)`.

Both find the same trials, because the oracle draws a trial's values from the seed and the
trial number only. Run it with::

    python examples/tune_scipy_function.py [--directory example_projects]

Projects are written to ``<directory>/tune_scipy_function/`` and started clean each run.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize, rosen, rosen_der

import tunelab as kt

SEED = 42
MAX_TRIALS = 30
DIMENSION = 3
EVALUATIONS_PER_DIGIT = 500.0
# The final value is floored so that an exact minimum does not give log10(0).
VALUE_FLOOR = 1e-12

GRADIENT_METHODS = ["CG", "BFGS", "L-BFGS-B"]
METHODS = ["Nelder-Mead", "Powell", *GRADIENT_METHODS]


def start_points(seed: int = SEED, count: int = 3) -> np.ndarray:
    """`count` start points drawn uniformly from [-2, 2]^DIMENSION."""
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(count, DIMENSION))


def optimizer_cost(hp: kt.HyperParameters, starts: np.ndarray) -> dict[str, float]:
    """Run `minimize` from every start point with the options in `hp`; return the metrics.

    Parameters
    ----------
    hp : kt.HyperParameters
        Registers (define-by-run) and returns the optimizer options to try.
    starts : ndarray of shape (n_starts, DIMENSION)
        The start points.

    Returns
    -------
    dict
        ``loss`` (the objective), ``log10_worst_value`` and ``mean_evaluations``.

    Examples
    --------
    >>> hp = kt.HyperParameters()
    >>> round(optimizer_cost(hp, start_points(count=1))["loss"], 1) > -20
    True
    """
    method = hp.Choice("method", METHODS)
    with hp.conditional_scope("method", GRADIENT_METHODS):
        # Inactive (None) for the derivative-free methods.
        gradient = hp.Choice("gradient", ["analytic", "2-point", "3-point"])
    max_iterations = hp.Int("max_iterations", 10, 1000, sampling="log")
    tolerance = hp.Float("tolerance", 1e-12, 1e-2, sampling="log")

    jac: Any = None
    if gradient is not None:
        jac = rosen_der if gradient == "analytic" else gradient
    values, evaluations = [], []
    for x0 in starts:
        result = minimize(
            rosen, x0, method=method, jac=jac, tol=tolerance, options={"maxiter": max_iterations}
        )
        values.append(float(result.fun))
        # An analytic gradient costs about one function evaluation; count it as such.
        count = result.nfev + (result.get("njev", 0) if gradient == "analytic" else 0)
        evaluations.append(count)
    log10_worst = math.log10(max(max(values), VALUE_FLOOR))
    mean_evaluations = float(np.mean(evaluations))
    return {
        "loss": log10_worst + mean_evaluations / EVALUATIONS_PER_DIGIT,
        "log10_worst_value": log10_worst,
        "mean_evaluations": mean_evaluations,
    }


def search_with_ask_tell(directory: Path, starts: np.ndarray) -> kt.Trial:
    """The loop written out: ask for a trial, evaluate it, tell the result."""
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("loss", "min"),
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="ask_tell",
        overwrite=True,
    )
    while (trial := oracle.ask()) is not None:
        oracle.tell(trial, optimizer_cost(trial.hyperparameters, starts))

    # The trials outlive the oracle: a new one on the same folder (another process, another
    # day) finds them all, and would continue the search if max_trials were raised.
    reopened = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("loss", "min"),
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="ask_tell",
    )
    finished = [t for t in reopened.trials.values() if t.status == kt.TrialStatus.COMPLETED]
    print(
        f"ask/tell: {len(finished)} completed trials stored in "
        f"{reopened.project_dir / 'tunelab.sqlite'}"
    )
    print("ask/tell: the 3 best trials")
    for trial in reopened.get_best_trials(3):
        print(
            f"  trial {trial.trial_id}: loss={trial.score:.3f} "
            f"{trial.hyperparameters.active_values()}"
        )
    return reopened.get_best_trials(1)[0]


def search_with_function(directory: Path, starts: np.ndarray) -> kt.Trial:
    """The same search as a function objective: the tuner runs the loop."""
    tuner = kt.RandomSearch(
        optimizer_cost,
        objective=kt.Objective("loss", "min"),
        max_trials=MAX_TRIALS,
        seed=SEED,
        directory=directory,
        project_name="function",
        overwrite=True,
    )
    # Positional and keyword arguments of search() are passed on to optimizer_cost.
    tuner.search(starts, verbose=0)
    tuner.results_summary(num_trials=3)
    return tuner.get_best_trials(1)[0]


def report_best(style: str, trial: kt.Trial) -> None:
    metrics = {name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics}
    print(
        f"{style}: best loss {trial.score:.3f} (trial {trial.trial_id}): "
        f"{trial.hyperparameters.active_values()}"
    )
    print(
        f"{style}: log10 worst value {metrics['log10_worst_value']:.2f}, "
        f"{metrics['mean_evaluations']:.0f} evaluations per start"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--directory",
        default="example_projects",
        help="where the projects are written (default: example_projects)",
    )
    args = parser.parse_args(argv)
    directory = Path(args.directory) / "tune_scipy_function"
    starts = start_points()

    best_ask_tell = search_with_ask_tell(directory, starts)
    print()
    best_function = search_with_function(directory, starts)
    print()
    report_best("ask/tell", best_ask_tell)
    report_best("function", best_function)
    same = (
        best_ask_tell.trial_id == best_function.trial_id
        and best_ask_tell.hyperparameters.active_values()
        == best_function.hyperparameters.active_values()
    )
    print(f"Same seed, same best trial in both styles: {same}")


if __name__ == "__main__":
    main()
