"""Where a method puts its trials: the configurations one search evaluated, not only its values.

The run cache keeps each trial's value only. To see *why* a method wins or loses a cell,
this re-runs a few seeds with the problem's objective wrapped so that every evaluated
configuration is recorded, then prints each seed's best configurations and how the trials
spread over one hyperparameter's range (in unit coordinates: 0 and 1 are its bounds, log
scale where the parameter is log-scaled)::

    python trace_params.py --problem mlp_diabetes --methods tunelab_bayesian,optuna_tpe \\
        --seeds 0-2 --budget 100 --param alpha

Optuna and KerasTuner methods need the bench group (``uv sync --group bench``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from methods import METHODS, runner  # noqa: E402
from problems import Param, all_problems  # noqa: E402
from run import parse_seeds  # noqa: E402

# Bins of the unit range reported for --param: the bounds themselves are bins of their own,
# because an optimizer that piles trials onto a bound is what this is for.
EDGES = (0.0, 0.5, 0.9, 1.0)


def unit(param: Param, value: float) -> float:
    """`value` as a fraction of `param`'s range (log scale for log parameters)."""
    lo, hi, v = float(param.low), float(param.high), float(value)
    if param.log:
        lo, hi, v = math.log(lo), math.log(hi), math.log(v)
    return (v - lo) / (hi - lo)


def spread(units: list[float]) -> str:
    """Counts of trials exactly at either bound and in the bins between EDGES."""
    at_lo = sum(u <= 1e-9 for u in units)
    at_hi = sum(u >= 1 - 1e-9 for u in units)
    inner = [u for u in units if 1e-9 < u < 1 - 1e-9]
    bins = [
        f"({a:g}, {b:g}): {sum(a < u <= b if b < 1 else a < u for u in inner)}"
        for a, b in zip(EDGES, EDGES[1:], strict=False)
    ]
    return f"at 0: {at_lo}, " + ", ".join(bins) + f", at 1: {at_hi}"


def trace(problem_name: str, method: str, seed: int, budget: int) -> list[tuple[float, dict]]:
    """(value, configuration) of every trial of one search, in trial order."""
    problem = all_problems()[problem_name]
    seen: list[tuple[float, dict[str, Any]]] = []

    def evaluate(values: dict[str, Any]) -> float:
        value = problem.evaluate(values)
        seen.append((value, dict(values)))
        return value

    runner(method)(dataclasses.replace(problem, evaluate=evaluate), seed, budget)
    return seen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", required=True, choices=list(all_problems()))
    parser.add_argument("--methods", default="tunelab_bayesian")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--param", help="a float or int parameter whose spread to show")
    parser.add_argument("--top", type=int, default=3, help="best configurations to print")
    args = parser.parse_args(argv)
    params = {p.name: p for p in all_problems()[args.problem].params}
    if args.param is not None and (args.param not in params or params[args.param].kind == "choice"):
        numeric = [n for n, p in params.items() if p.kind != "choice"]
        parser.error(f"--param {args.param!r}: expected one of {numeric}")
    for method in args.methods.split(","):
        if method not in METHODS:
            parser.error(f"--methods: unknown {method!r}; expected some of {list(METHODS)}")
        for seed in parse_seeds(args.seeds):
            seen = trace(args.problem, method, seed, args.budget)
            print(f"{method} seed {seed}: best {min(v for v, _ in seen):.6g}")
            for value, config in sorted(seen, key=lambda t: t[0])[: args.top]:
                shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in config.items()}
                print(f"    {value:.6g}  {shown}")
            if args.param is not None:
                units = [
                    unit(params[args.param], c[args.param]) for _, c in seen if args.param in c
                ]
                print(f"    {args.param}: {spread(units)}")


if __name__ == "__main__":
    main()
