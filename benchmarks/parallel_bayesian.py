"""Bayesian optimization with pending trials, without processes: how much does running N
trials at once cost in search quality, and which value for the pending trials costs least?

Parallel workers are simulated with ask/tell on the oracle alone, in the order the search
loop tells results (ordered: trial m is asked knowing trials 0..m-N, with the N-1 trials
before it still pending). That is exactly what a seeded search with N workers does, minus
the processes, so many seeds of cheap synthetic problems fit in a few minutes and the
comparison is not drowned in seed-to-seed noise (``parallel.py`` does the same with real
scikit-learn fits and real workers, at a few seeds).

Run: ``uv run --frozen python benchmarks/parallel_bayesian.py --seeds 10`` (a few minutes).
Writes benchmarks/results/parallel_bayesian.json.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "search_quality"))

from methods import _run_tunelab  # noqa: E402
from problems import Problem, synthetic_problems  # noqa: E402

import tunelab as kt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "parallel_bayesian.json"


def run(problem: Problem, seed: int, budget: int, workers: int, lie: str) -> list[float]:
    """The values of one search's trials, in trial order, with `workers` trials in flight."""
    oracle_class = kt.oracles.BayesianOptimizationOracle
    saved = oracle_class._pending_lie
    oracle_class._pending_lie = lie
    try:
        return _run_tunelab(oracle_class, problem, seed, budget, workers)
    finally:
        oracle_class._pending_lie = saved


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", default="branin,hartmann6,levy4,mixed,rosenbrock4")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lies", default="fantasies,mean,believer")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    problems = synthetic_problems()
    variants = [("sequential", 1, "mean")]
    variants += [(f"parallel_{lie}", args.workers, lie) for lie in args.lies.split(",")]
    started = time.perf_counter()
    regrets: dict[str, dict[str, list[float]]] = {}
    for name in args.problems.split(","):
        problem = problems[name]
        regrets[name] = {}
        for variant, workers, lie in variants:
            rows = []
            for seed in range(args.seeds):
                best = min(run(problem, seed, args.budget, workers, lie))
                rows.append(best - problem.optimum)
            regrets[name][variant] = rows
            print(f"{name:<12}{variant:<20}{_log_mean(rows):>8.3f}", flush=True)
    report = {
        "benchmark": "Bayesian optimization with pending trials (simulated workers)",
        "budget": args.budget,
        "workers": args.workers,
        "seeds": args.seeds,
        "default_pending_lie": kt.oracles.BayesianOptimizationOracle._pending_lie,
        "metric": "mean over seeds of log10(best value - known minimum + 1e-9)",
        "regret": regrets,
        "summary": summarize(regrets),
        "total_seconds": time.perf_counter() - started,
    }
    print_table(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.output}")
    return report


def _log_mean(rows: list[float]) -> float:
    return statistics.fmean(math.log10(r + 1e-9) for r in rows)


def summarize(regrets: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """Per problem and variant: mean log10 regret, and in how many seeds the variant did no
    worse than the sequential search."""
    out: dict[str, Any] = {}
    for problem, variants in regrets.items():
        sequential = variants["sequential"]
        out[problem] = {
            variant: {
                "mean_log10_regret": _log_mean(rows),
                "no_worse_than_sequential": sum(
                    r <= s for r, s in zip(rows, sequential, strict=True)
                ),
            }
            for variant, rows in variants.items()
        }
    return out


def print_table(report: dict[str, Any]) -> None:
    summary = report["summary"]
    variants = list(next(iter(summary.values())))
    print(f"\nmean log10 regret after {report['budget']} trials, {report['seeds']} seeds")
    print(f"{'problem':<12}" + "".join(f"{v:>20}" for v in variants))
    for problem, rows in summary.items():
        print(
            f"{problem:<12}" + "".join(f"{rows[v]['mean_log10_regret']:>20.3f}" for v in variants)
        )


if __name__ == "__main__":
    main()
